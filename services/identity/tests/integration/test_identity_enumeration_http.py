"""Issue 14, account enumeration: « Rattacher un utilisateur » is an invitation with the same
answer for any address; a failed sign-in does the same database work for a known and an
unknown address; registration's database work happens after the answer."""

from __future__ import annotations

import uuid

import pytest
from pymongo import monitoring

from chorale_runtime.testing.kafka_probe import eventually

from .conftest import running_identity

pytestmark = pytest.mark.integration

WRONG = "Pas-Le-Bon-Mot-42!"
# What the answer may differ by: the invitation itself (its id, the address typed, dates).
OWN_FIELDS = {"id", "email", "createdAt", "expiresAt"}


def comparable(response) -> tuple[int, dict]:
    body = response.json()
    return response.status_code, {k: v for k, v in body.items() if k not in OWN_FIELDS}


async def test_attaching_is_an_invitation_with_the_same_answer_for_any_address(identity):
    """Regression: the answer was 404 USER_NOT_FOUND / 409 USER_INACTIVE / 201, and the person
    was attached without being asked."""
    gp = await identity.user()
    siret = await identity.structure(type_structure="PRIVEE", created_by=gp.id)
    known, closed = await identity.user(), await identity.user()
    await identity.post(
        "/v1/me/deactivate", {"currentPassword": "Correct-Horse-42!"}, headers=closed.headers
    )
    pending = f"attente-{uuid.uuid4().hex[:6]}@exemple.fr"
    await identity.register(pending)
    await identity.link_token(pending)

    url = f"/v1/structures/{siret}/rattachements"
    answers = {
        address: await identity.post(url, {"email": address}, headers=gp.headers)
        for address in (known.email, closed.email, pending, "personne@exemple.fr")
    }
    assert len({repr(comparable(a)) for a in answers.values()}) == 1, answers
    assert answers[known.email].status_code == 202
    assert answers[known.email].json()["status"] == "EN_ATTENTE"

    # Nobody is attached until the person accepts.
    assert (await identity.get("/v1/me/rattachements", headers=known.headers)).json() == {
        "rattachements": []
    }
    mine = (await identity.get("/v1/me/invitations", headers=known.headers)).json()["invitations"]
    assert [i["identifiantStructure"] for i in mine] == [siret]
    assert mine[0]["raisonSociale"] == f"Raison {siret}" and mine[0]["invitedBy"] == gp.id
    invitation_id = answers[known.email].json()["id"]
    assert mine[0]["id"] == invitation_id
    told = await identity.mailbox.wait_for(
        lambda e: e.event_type == "rattachement.invited" and e.key == invitation_id
    )
    assert told[0].payload["userId"] == known.id
    # No event, hence no mail, for an address without an account.
    nobody_id = answers["personne@exemple.fr"].json()["id"]
    assert not [e for e in identity.mailbox.events if e.key == nobody_id]

    # Someone else cannot answer it; inviting again answers the same open invitation.
    outsider = await identity.user()
    stolen = await identity.post(
        f"/v1/invitations/{invitation_id}/accept", headers=outsider.headers
    )
    assert stolen.status_code == 404 and stolen.json()["code"] == "INVITATION_NOT_FOUND"
    again = await identity.post(url, {"email": known.email}, headers=gp.headers)
    assert again.status_code == 202 and again.json()["id"] == invitation_id

    accepted = await identity.post(f"/v1/invitations/{invitation_id}/accept", headers=known.headers)
    assert accepted.status_code == 200, accepted.text
    r = accepted.json()
    assert (r["id"], r["status"], r["origin"]) == (invitation_id, "VALIDEE", "DIRECT")
    approved = await identity.mailbox.wait_for(
        lambda e: e.event_type == "rattachement.approved" and e.key == invitation_id
    )
    assert approved[0].payload["direct"] is True and approved[0].payload["decidedBy"] == gp.id
    twice = await identity.post(f"/v1/invitations/{invitation_id}/accept", headers=known.headers)
    assert twice.status_code == 409 and twice.json()["code"] == "INVITATION_ALREADY_DECIDED"
    assert (await identity.get("/v1/me/invitations", headers=known.headers)).json() == {
        "invitations": []
    }


async def test_an_invitation_can_be_declined_and_a_later_account_sees_it(identity):
    gp = await identity.user()
    siret = await identity.structure(type_structure="PRIVEE", created_by=gp.id)
    url = f"/v1/structures/{siret}/rattachements"
    later = f"plus-tard-{uuid.uuid4().hex[:6]}@exemple.fr"
    invited = await identity.post(url, {"email": later}, headers=gp.headers)
    person = await identity.user(later)  # the account comes after the invitation
    mine = (await identity.get("/v1/me/invitations", headers=person.headers)).json()
    assert [i["id"] for i in mine["invitations"]] == [invited.json()["id"]]
    declined = await identity.post(
        f"/v1/invitations/{invited.json()['id']}/decline", headers=person.headers
    )
    assert declined.status_code == 200 and declined.json()["status"] == "DECLINEE"
    assert (await identity.get("/v1/me/rattachements", headers=person.headers)).json() == {
        "rattachements": []
    }
    self_invite = await identity.post(url, {"email": person.email}, headers=person.headers)
    assert self_invite.status_code == 403  # not a gestionnaire of the structure


class _Commands(monitoring.CommandListener):
    """The account-related commands the identity process sends (by collection and kind)."""

    WATCHED = {"users", "logins", "sign_in_decoys"}

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        collection = event.command.get(event.command_name)
        if isinstance(collection, str) and collection in self.WATCHED:
            self.seen.append((event.command_name, collection))

    def succeeded(self, event) -> None:
        return None

    def failed(self, event) -> None:
        return None


async def test_a_failed_sign_in_does_the_same_database_work_known_or_not(
    infra, namespace, identity_settings
):
    """Regression: only a known address paid a database write (the failure counter)."""
    listener = _Commands()
    monitoring.register(listener)  # for the clients created from now on: this identity's
    async with running_identity(infra, namespace, identity_settings) as identity:
        user = await identity.user()
        unknown = f"inconnu-{uuid.uuid4().hex[:6]}@exemple.fr"
        await identity.login(unknown, WRONG)  # the first failure of an address creates its decoy

        async def commands(email: str) -> list[str]:
            listener.seen.clear()
            refused = await identity.login(email, WRONG)
            assert refused.status_code == 401
            return [kind for kind, _ in listener.seen]

        known_work = await commands(user.email)
        unknown_work = await commands(unknown)
    assert known_work == unknown_work, (known_work, unknown_work)
    assert known_work.count("update") == 1


async def test_registration_answers_before_its_database_work(identity):
    """The answer is the same for a new and a taken address and is sent before the account
    is stored; the account appears afterwards."""
    user = await identity.user()
    fresh = f"nouveau-{uuid.uuid4().hex[:6]}@exemple.fr"
    taken = await identity.register(user.email)
    new = await identity.register(fresh)
    assert (taken.status_code, taken.json()) == (new.status_code, new.json())
    await eventually(lambda: identity.ctx.accounts.user_id_for(fresh), timeout=30)
