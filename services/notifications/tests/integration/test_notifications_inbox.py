""""Mes messages" and preferences over HTTP: the inbox always keeps the message, the e-mail
follows the user's choice per category, account-security mails cannot be switched off."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from chorale_contracts.events.identity import RattachementRefused, UserVerificationRequested
from chorale_contracts.events.invoices import InvoiceMadeAvailable
from chorale_runtime.testing.kafka_probe import eventually

from .conftest import email_of, made_available

pytestmark = pytest.mark.integration

COMMUNE = "21690123100011"


def invoice(n: int) -> InvoiceMadeAvailable:
    return made_available(f"F-{n}", COMMUNE)


async def test_preferences_inbox_and_read_marks(publish, smtp, notifications, tokens):
    async with notifications(habilitations_digest_seconds=3600) as base:
        me = tokens.headers("lea")
        async with httpx.AsyncClient(base_url=base, headers=me) as client:
            prefs = (await client.get("/v1/me/preferences")).json()["email"]
            assert {p["categorie"]: p["actif"] for p in prefs}["FACTURE_MISE_A_DISPOSITION"]
            assert next(p for p in prefs if p["categorie"] == "SECURITE_COMPTE")[
                "modifiable"] is False
            off = await client.put("/v1/me/preferences",
                                   json={"email": {"FACTURE_MISE_A_DISPOSITION": False}})
            assert off.status_code == 200
            assert {p["categorie"]: p["actif"] for p in off.json()["email"]}[
                "FACTURE_MISE_A_DISPOSITION"] is False
            refused = await client.put("/v1/me/preferences",
                                       json={"email": {"SECURITE_COMPTE": False}})
            assert (refused.status_code, refused.json()["code"]) == (
                422, "PREFERENCE_NOT_MODIFIABLE")
            unknown = await client.put("/v1/me/preferences", json={"email": {"SPAM": True}})
            assert unknown.json()["code"] == "CATEGORY_UNKNOWN"

            await publish.user("lea", prenom="Léa")
            await publish.user("marc", prenom="Marc")
            for uid in ("lea", "marc"):
                await publish.grant(uid, COMMUNE, "FACTURES_RECUES", "CONSULTATION")
            for n in (1, 2):
                await publish(invoice(n), f"inv-{n}")
            await publish(RattachementRefused(rattachementId="r-9", userId="lea",
                                              structure=COMMUNE, decidedBy="gp"), "r-9")
            await publish(UserVerificationRequested(
                userId="lea", purpose="EMAIL_VERIFICATION", contactEmail=email_of("lea"),
                prenom="Léa", linkId="lien-xyz",
                expiresAt=datetime.now(UTC) + timedelta(days=1)), "lea")

            # Marc gets both invoices; Léa only the refusal and the verification link
            await eventually(lambda: len(smtp.catcher.to(email_of("marc"))) == 2, timeout=60)
            await eventually(lambda: len(smtp.catcher.to(email_of("lea"))) == 2, timeout=60)
            await asyncio.sleep(1)
            lea_subjects = sorted(m.subject for m in smtp.catcher.to(email_of("lea")))
            assert lea_subjects[0] == "Confirmez votre adresse électronique"
            assert lea_subjects[1].startswith("Rattachement refusé")

            # ... but her inbox has all three (not the single-use link)
            async def inbox() -> dict:
                body = (await client.get("/v1/me/messages")).json()
                return body if body["total"] == 3 else {}

            body = await eventually(inbox, timeout=30)
            assert body["nonLus"] == 3
            assert [m["categorie"] for m in body["messages"]].count(
                "FACTURE_MISE_A_DISPOSITION") == 2
            assert all("token=" not in m["texte"] for m in body["messages"])
            assert (await client.get("/v1/me/messages/unread-count")).json() == {"nonLus": 3}

            page = (await client.get("/v1/me/messages", params={"taille": 2})).json()
            assert len(page["messages"]) == 2 and page["total"] == 3
            first = page["messages"][0]
            read = await client.post(f"/v1/me/messages/{first['id']}/read")
            assert read.status_code == 200 and read.json()["lu"] is True
            assert (await client.get("/v1/me/messages/unread-count")).json() == {"nonLus": 2}
            unread = (await client.get("/v1/me/messages", params={"nonLus": "true"})).json()
            assert first["id"] not in [m["id"] for m in unread["messages"]]
            assert unread["total"] == 2
            detail = (await client.get(f"/v1/me/messages/{first['id']}")).json()
            assert detail["html"].startswith("<!DOCTYPE html>")

            # another user can neither read nor mark Léa's messages
            other = tokens.headers("marc")
            stolen = await client.post(f"/v1/me/messages/{first['id']}/read", headers=other)
            assert (stolen.status_code, stolen.json()["code"]) == (404, "MESSAGE_NOT_FOUND")
            anonymous = await client.get("/v1/me/messages", headers={"Authorization": ""})
            assert anonymous.status_code == 401
