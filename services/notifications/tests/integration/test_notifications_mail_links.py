"""Verification, reset and contact-confirmation mails: the event carries a link id, the usable
link is asked of identity when the mail is sent and put in the SMTP message only; a retried or
re-sent delivery gets a fresh link; a link identity no longer gives is not mailed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from chorale_contracts.events.identity import UserVerificationRequested
from chorale_runtime.testing.kafka_probe import eventually

pytestmark = pytest.mark.integration


def requested(
    user_id: str, link_id: str, purpose: str = "EMAIL_VERIFICATION"
) -> UserVerificationRequested:
    return UserVerificationRequested(
        userId=user_id, purpose=purpose, contactEmail=f"{user_id}@mail.test",
        prenom="Zoé", linkId=link_id, expiresAt=datetime.now(UTC) + timedelta(hours=1),
    )


async def test_the_link_is_minted_at_sending_and_stored_nowhere(
    publish, smtp, notifications, identity_links, mongo_client, namespace, tokens
):
    identity_links.unavailable = 1  # identity cannot answer the first attempt: retried
    async with notifications() as base:
        await publish(requested("zoe", "lien-zoe"), "zoe")
        await eventually(lambda: smtp.catcher.to("zoe@mail.test"), timeout=60)
        [mail] = smtp.catcher.to("zoe@mail.test")
        [token] = identity_links.minted["lien-zoe"]
        assert f"?token={token}" in mail.text and f"?token={token}" in mail.html

        deliveries = mongo_client[namespace.database("notifications")].deliveries

        async def sent() -> dict | None:
            doc = await deliveries.find_one({"linkId": "lien-zoe"})
            return doc if doc and doc["statut"] == "SENT" else None

        doc = await eventually(sent, timeout=30)
        assert [e["resultat"] for e in doc["log"]] == ["TRANSIENT", "SENT"]
        assert "lien non obtenu" in doc["log"][0]["reponse"]
        everything = json.dumps(await deliveries.find({}).to_list(None), default=str)
        assert token not in everything

        # An operator's re-send (the person lost the mail) mints a new link: it works, the
        # first one no longer does (identity replaced it).
        await deliveries.update_one({"_id": doc["_id"]}, {"$set": {"statut": "FAILED"}})
        async with httpx.AsyncClient(base_url=base, headers=tokens.operator()) as client:
            retried = await client.post(f"/v1/operations/deliveries/{doc['_id']}/retry")
            assert retried.status_code == 200, retried.text
        await eventually(lambda: len(smtp.catcher.to("zoe@mail.test")) == 2, timeout=60)
        first, second = identity_links.minted["lien-zoe"]
        assert first == token and f"?token={second}" in smtp.catcher.to("zoe@mail.test")[1].text


async def test_a_link_identity_no_longer_gives_is_not_mailed(
    publish, smtp, notifications, identity_links, mongo_client, namespace
):
    identity_links.gone.add("lien-perime")
    async with notifications():
        await publish(requested("yann", "lien-perime"), "yann")
        deliveries = mongo_client[namespace.database("notifications")].deliveries

        async def failed() -> dict | None:
            doc = await deliveries.find_one({"linkId": "lien-perime"})
            return doc if doc and doc["statut"] == "FAILED" else None

        doc = await eventually(failed, timeout=60)
        assert doc["log"][-1]["resultat"] == "PERMANENT"
        assert "expiré, déjà utilisé ou remplacé" in doc["derniereReponse"]
    assert smtp.catcher.to("yann@mail.test") == []


async def test_a_contact_email_confirmation_is_minted_at_sending_too(
    publish, smtp, notifications, identity_links, mongo_client, namespace
):
    """The link that confirms a new contact address is a credential like the others."""
    async with notifications():
        await publish(requested("ines", "lien-contact", "CONTACT_EMAIL_VERIFICATION"), "ines")
        await eventually(lambda: smtp.catcher.to("ines@mail.test"), timeout=60)
        [mail] = smtp.catcher.to("ines@mail.test")
        [token] = identity_links.minted["lien-contact"]
        assert "adresse de contact" in mail.subject and f"?token={token}" in mail.text
        deliveries = mongo_client[namespace.database("notifications")].deliveries

        async def sent() -> dict | None:
            doc = await deliveries.find_one({"linkId": "lien-contact"})
            return doc if doc and doc["statut"] == "SENT" else None

        await eventually(sent, timeout=30)
        everything = json.dumps(await deliveries.find({}).to_list(None), default=str)
        assert token not in everything
