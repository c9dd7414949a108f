"""Flooding (issue 14): per-address and per-identifier limits on sign-in, registration,
reset mails and re-authentication, answered 429 with Retry-After before any argon2id work."""

from __future__ import annotations

import asyncio

import pytest

from chorale_identity.settings import IdentitySettings
from chorale_runtime.testing.plugin import settings_for

from .conftest import FAST, PASSWORD, running_identity

pytestmark = pytest.mark.integration

WRONG = "Pas-Le-Bon-Mot-42!"


def origin(address: str) -> dict[str, str]:
    """The test talks to identity over loopback, a trusted proxy by default."""
    return {"X-Forwarded-For": address}


async def test_limits_per_client_address_and_per_identifier(infra, namespace):
    settings = settings_for(
        IdentitySettings,
        infra,
        namespace,
        **{
            **FAST,
            "rate_sign_in_per_address": "4/600",
            "rate_sign_in_per_account": "3/600",
            "rate_registration_per_address": "3/600",
            "rate_mail_per_address": "2/600",
            "rate_reauth_per_account": "2/600",
            "rate_concurrent_per_address": 1,
        },
    )
    async with running_identity(infra, namespace, settings) as identity:
        # Per address: the 5th attempt from one address is refused, whatever the account.
        for n in range(4):
            answer = await identity.post(
                "/v1/auth/login",
                {"email": f"x{n}@exemple.fr", "password": WRONG},
                headers=origin("203.0.113.7"),
            )
            assert answer.status_code == 401
        flooded = await identity.post(
            "/v1/auth/login",
            {"email": "x9@exemple.fr", "password": WRONG},
            headers=origin("203.0.113.7"),
        )
        assert flooded.status_code == 429 and flooded.json()["code"] == "RATE_LIMITED"
        assert int(flooded.headers["Retry-After"]) >= 1
        assert "réessayez" in flooded.json()["message"]
        elsewhere = await identity.post(
            "/v1/auth/login",
            {"email": "x9@exemple.fr", "password": WRONG},
            headers=origin("198.51.100.1"),
        )
        assert elsewhere.status_code == 401

        # Several people behind one address signing in at once queue for its argon2id turn.
        office = await asyncio.gather(
            *(
                identity.post(
                    "/v1/auth/login",
                    {"email": f"bureau{n}@exemple.fr", "password": WRONG},
                    headers=origin("192.0.2.77"),
                )
                for n in range(3)
            )
        )
        assert [r.status_code for r in office] == [401, 401, 401]

        # Per identifier, from many addresses: the same for a known and an unknown address.
        user = await identity.user()  # signs in once: one token of the three
        await identity.login("inconnu@exemple.fr", WRONG)  # the same for the unknown address
        answers = {}
        for email in (user.email, "inconnu@exemple.fr"):
            codes = []
            for n in range(4):
                r = await identity.post(
                    "/v1/auth/login",
                    {"email": email.upper(), "password": WRONG},
                    headers=origin(f"192.0.2.{n + 10}"),
                )
                codes.append(r.status_code)
            answers[email] = codes
        assert answers[user.email] == answers["inconnu@exemple.fr"] == [401, 401, 429, 429]

        # Reset mails per address; re-authentication per account.
        for expected in (202, 202, 429):
            r = await identity.post(
                "/v1/auth/password-reset", {"email": user.email}, headers=origin("192.0.2.99")
            )
            assert r.status_code == expected
        change = {"currentPassword": WRONG, "newPassword": "Autre-Mot-De-Passe-7"}
        answers = [
            await identity.post("/v1/me/password", change, headers=user.headers) for _ in range(3)
        ]
        assert [r.status_code for r in answers] == [401, 401, 429]
        # Refused by the route (per-account bucket): the runtime renders the header too.
        assert int(answers[2].headers["Retry-After"]) >= 1
        stored = await identity.ctx.accounts.get(user.id)
        assert stored.value.failed_attempts < 5  # refused before counting, before argon2id

        # Registrations per address.
        def registration(n: int) -> dict:
            return {
                "email": f"nouveau{n}@exemple.fr",
                "password": PASSWORD,
                "prenom": "J",
                "nom": "M",
            }

        codes = [
            (
                await identity.post("/v1/users", registration(n), headers=origin("192.0.2.200"))
            ).status_code
            for n in range(4)
        ]
        assert codes == [202, 202, 202, 429]
