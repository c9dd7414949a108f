"""Invitations (``_id`` = invitation id, also the id of the rattachement an acceptance
creates). One open invitation per (address, structure, service): a unique index on
``liveKey``, which becomes ``closed:<id>`` once the invitation is answered or expired."""

from __future__ import annotations

from collections.abc import Sequence

from pymongo.asynchronous.database import AsyncDatabase

from chorale_contracts import Envelope
from chorale_identity.adapters.documents import Notify, Store, Versioned
from chorale_identity.domain.invitations import Invitation, InvitationStatus
from chorale_runtime.mongo import IndexSpec

COLLECTION = "invitations"
LIVE_KEY = "liveKey"

INDEXES = (
    IndexSpec(COLLECTION, ((LIVE_KEY, 1),), unique=True, name="invitation_live_key_unique"),
    IndexSpec(COLLECTION, (("email", 1),), name="invitation_email"),
)


def live_key(invitation: Invitation) -> str:
    if invitation.status is InvitationStatus.EN_ATTENTE:
        return invitation.live_key()
    return f"closed:{invitation.id}"


class InvitationRepository:
    def __init__(self, db: AsyncDatabase, notify: Notify | None = None):
        self.store: Store[Invitation] = Store(db[COLLECTION], Invitation, notify, (LIVE_KEY,))

    async def add(self, invitation: Invitation, events: Sequence[Envelope]) -> None:
        """Raise ``AlreadyExists`` when an open invitation holds the key."""
        await self.store.insert(invitation.id, invitation, events, {LIVE_KEY: live_key(invitation)})

    async def get(self, invitation_id: str) -> Versioned[Invitation] | None:
        return await self.store.get(invitation_id)

    async def holding_key(self, invitation: Invitation) -> Versioned[Invitation] | None:
        found = await self.store.col.find_one({LIVE_KEY: invitation.live_key()}, {"_id": 1})
        return await self.get(found["_id"]) if found else None

    async def save(self, stored: Versioned[Invitation], invitation: Invitation) -> None:
        await self.store.replace(
            invitation.id, stored, invitation, (), {LIVE_KEY: live_key(invitation)}
        )

    async def for_email(self, email: str) -> list[Invitation]:
        return await self.store.find({"email": email})
