"""Lockout, refused credentials (expired, revoked, deactivated), and answers that never tell
whether an address is registered."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from chorale_identity.domain.accounts import MAX_FAILED_ATTEMPTS
from chorale_identity.domain.errors import DomainError
from chorale_identity.service_layer import sessions

pytestmark = pytest.mark.integration

WRONG = "Pas-Le-Bon-Mot-De-Passe-1"


async def test_five_failures_lock_for_an_hour_through_the_service_layer(identity):
    user = await identity.user()
    ctx = identity.ctx
    for _ in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(DomainError) as failed:
            await sessions.sign_in(ctx, user.email, WRONG, None)
        assert failed.value.code == "INVALID_CREDENTIALS"
    stored = await ctx.accounts.get(user.id)
    assert stored.value.locked_until is not None
    with pytest.raises(DomainError) as locked:  # the right password, refused while locked
        await sessions.sign_in(ctx, user.email, "Correct-Horse-42!", None)
    assert locked.value.code == "INVALID_CREDENTIALS"

    identity.clock.advance(timedelta(minutes=59))
    with pytest.raises(DomainError):
        await sessions.sign_in(ctx, user.email, "Correct-Horse-42!", None)
    identity.clock.advance(timedelta(minutes=1, seconds=1))
    issued = await sessions.sign_in(ctx, user.email, "Correct-Horse-42!", None)
    assert issued.access.claims.sub == user.id
    assert (await ctx.accounts.get(user.id)).value.failed_attempts == 0


async def test_lockout_through_http_counts_concurrent_failures(identity):
    user = await identity.user()
    wrong = await asyncio.gather(*(identity.login(user.email, WRONG) for _ in range(5)))
    assert {r.status_code for r in wrong} == {401}
    stored = await identity.ctx.accounts.get(user.id)
    assert stored.value.failed_attempts == 5 and stored.value.locked_until is not None
    locked = await identity.login(user.email)
    unknown = await identity.login("personne@exemple.fr")
    assert (locked.status_code, locked.json()) == (unknown.status_code, unknown.json())
    identity.clock.advance(timedelta(hours=1, seconds=1))
    assert (await identity.login(user.email)).status_code == 200


async def test_no_enumeration_through_registration_login_or_reset(identity):
    known = await identity.user()
    pending = "en-attente@exemple.fr"
    await identity.register(pending)
    deactivated = await identity.user()
    closed = await identity.post(
        "/v1/me/deactivate", {"currentPassword": "Correct-Horse-42!"}, headers=deactivated.headers
    )
    assert closed.status_code == 200

    def same(responses):
        shapes = {(r.status_code, r.text) for r in responses}
        assert len(shapes) == 1, shapes
        return responses[0]

    reg = same(
        [
            await identity.register(e)
            for e in (known.email, "nouvelle@exemple.fr", pending, deactivated.email)
        ]
    )
    assert reg.status_code == 202
    login = same(
        [
            await identity.login("inconnu@exemple.fr"),
            await identity.login(known.email, WRONG),
            await identity.login(pending),
            await identity.login(deactivated.email),
        ]
    )
    assert login.status_code == 401 and login.json()["code"] == "INVALID_CREDENTIALS"
    reset = same(
        [
            await identity.post("/v1/auth/password-reset", {"email": e})
            for e in (known.email, "inconnu@exemple.fr", pending, "pas-une-adresse")
        ]
    )
    assert reset.status_code == 202
    resend = same(
        [
            await identity.post("/v1/users/verification/resend", {"email": e})
            for e in (known.email, "inconnu@exemple.fr", pending)
        ]
    )
    assert resend.status_code == 202
    # Only one account per login, whatever was asked.
    users = identity.ctx.accounts.store.col
    assert await users.count_documents({"loginEmail": known.email}) == 1


async def test_expired_revoked_and_deactivated_credentials_are_refused(identity):
    user = await identity.user()
    # Access token: 15 minutes.
    identity.clock.advance(timedelta(minutes=15, seconds=1))
    expired = await identity.get("/v1/me", headers=user.headers)
    assert expired.status_code == 401 and expired.json()["code"] == "TOKEN_EXPIRED"
    # Refresh token: 7 days without use.
    identity.clock.advance(timedelta(days=7))
    stale = await identity.post("/v1/auth/refresh", {"refreshToken": user.refresh})
    assert stale.status_code == 401 and stale.json()["code"] == "TOKEN_EXPIRED"

    # Reuse of a retired refresh token revokes the whole session.
    session = (await identity.login(user.email)).json()
    rotated = (
        await identity.post("/v1/auth/refresh", {"refreshToken": session["refreshToken"]})
    ).json()
    reuse = await identity.post("/v1/auth/refresh", {"refreshToken": session["refreshToken"]})
    assert reuse.json()["code"] == "TOKEN_REVOKED"
    after = await identity.post("/v1/auth/refresh", {"refreshToken": rotated["refreshToken"]})
    assert after.json()["code"] == "TOKEN_REVOKED"

    forged = await identity.get("/v1/me", headers={"Authorization": "Bearer eyJhbGciOi.x.y"})
    assert forged.status_code == 401 and forged.json()["code"] == "TOKEN_INVALID"
    assert (await identity.get("/v1/me")).status_code == 401

    # Deactivation: the live access token, the session and the password all stop working.
    live = (await identity.login(user.email)).json()
    headers = {"Authorization": f"Bearer {live['accessToken']}"}
    refused = await identity.post("/v1/me/deactivate", {"currentPassword": WRONG}, headers=headers)
    assert refused.status_code == 401
    closed = await identity.post(
        "/v1/me/deactivate", {"currentPassword": "Correct-Horse-42!"}, headers=headers
    )
    assert closed.status_code == 200 and closed.json()["status"] == "DEACTIVATED"
    me = await identity.get("/v1/me", headers=headers)
    assert me.status_code == 401 and me.json()["code"] == "TOKEN_REVOKED"
    refresh = await identity.post("/v1/auth/refresh", {"refreshToken": live["refreshToken"]})
    assert refresh.status_code == 401 and refresh.json()["code"] == "TOKEN_REVOKED"
    assert (await identity.login(user.email)).json()["code"] == "INVALID_CREDENTIALS"
    await identity.mailbox.wait_for(
        lambda e: e.event_type == "user.deactivated" and e.key == user.id
    )
