"""The usable link of a verification, reset or contact-confirmation mail is minted by identity
for notifications at sending time (service credential), never carried by the event; minting
again replaces it."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlparse

import pytest

from .conftest import MAIL_LINKS_SECRET

pytestmark = pytest.mark.integration


def token_of(response) -> str:
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return parse_qs(urlparse(response.json()["link"]).query)["token"][0]


async def requested(identity, email: str, nth: int = 1):
    found = await identity.mailbox.wait_for(
        lambda e: e.event_type == "user.verification_requested"
        and e.payload["contactEmail"] == email, count=nth,
    )
    return found[nth - 1]


async def test_the_event_carries_a_link_id_and_only_the_latest_mint_verifies(identity):
    email = f"lien-{uuid.uuid4().hex[:8]}@exemple.fr"
    assert (await identity.register(email)).status_code == 202
    event = await requested(identity, email)
    assert "link" not in event.payload and event.schema_version == 2
    link_id = event.payload["linkId"]

    first = token_of(await identity.mint(link_id))
    retried = token_of(await identity.mint(link_id))  # a retried delivery
    assert first != retried
    stale = await identity.post("/v1/users/verify", {"token": first})
    assert stale.json()["code"] == "VERIFICATION_LINK_INVALID"
    assert (await identity.post("/v1/users/verify", {"token": retried})).status_code == 200

    used = await identity.mint(link_id)
    assert (used.status_code, used.json()["code"]) == (410, "MAIL_LINK_UNAVAILABLE")


async def test_a_superseded_or_unknown_link_is_not_minted(identity):
    email = f"lien-{uuid.uuid4().hex[:8]}@exemple.fr"
    await identity.register(email)
    older = (await requested(identity, email)).payload["linkId"]
    await identity.post("/v1/users/verification/resend", {"email": email})
    newer = (await requested(identity, email, nth=2)).payload["linkId"]
    for link_id in (older, "inconnu", ""):
        answer = await identity.mint(link_id or "%20")
        assert (answer.status_code, answer.json()["code"]) == (410, "MAIL_LINK_UNAVAILABLE")
    assert (await identity.mint(newer)).status_code == 200


async def test_minting_needs_the_service_credential(identity):
    email = f"lien-{uuid.uuid4().hex[:8]}@exemple.fr"
    await identity.register(email)
    link_id = (await requested(identity, email)).payload["linkId"]
    user = await identity.user()
    for headers in ({}, {"Authorization": "Bearer " + MAIL_LINKS_SECRET + "x"},
                    user.headers, identity.operator()):
        answer = await identity.post(f"/internal/v1/mail-links/{link_id}/token", headers=headers)
        assert (answer.status_code, answer.json()["code"]) == (401, "SERVICE_UNAUTHENTICATED")
    assert (await identity.mint(link_id)).status_code == 200


async def test_a_contact_confirmation_is_minted_only_while_its_address_waits(identity):
    """Its event carries only the link id too; once the person cancelled the change, the mail
    still queued for the old request gets no link."""
    user = await identity.user()
    new = f"contact-{uuid.uuid4().hex[:8]}@exemple.fr"
    body = {"contactEmail": new, "currentPassword": "Correct-Horse-42!"}
    assert (await identity.post("/v1/me/contact-email", body, headers=user.headers)).is_success
    event = await requested(identity, new)
    assert event.payload["purpose"] == "CONTACT_EMAIL_VERIFICATION"
    assert "link" not in event.payload

    body["contactEmail"] = user.email  # back to the address in force: the change is cancelled
    assert (await identity.post("/v1/me/contact-email", body, headers=user.headers)).is_success
    answer = await identity.mint(event.payload["linkId"])
    assert (answer.status_code, answer.json()["code"]) == (410, "MAIL_LINK_UNAVAILABLE")
