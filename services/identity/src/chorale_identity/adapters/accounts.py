"""User accounts: ``users`` (``_id`` = user id, the ``sub`` of access tokens) and ``logins``
(``_id`` = normalised login e-mail → user id), so both hot lookups read by ``_id``.

Registration claims the login first (an insert: two concurrent registrations of one address
cannot both win), then inserts the account under the user id the claim names. A crash between
the two leaves a claim without an account; the next registration of that address finishes it
under the same id, so the claim is never orphaned for good.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chorale_contracts import Envelope
from chorale_identity.adapters.documents import AlreadyExists, Notify, Store, Versioned
from chorale_identity.domain.accounts import OPERATOR, UserAccount
from chorale_runtime.mongo import IndexSpec, is_duplicate_key

USERS = "users"
LOGINS = "logins"
# Bookkeeping kept next to the account: the fingerprint of the latest link of each purpose
# (older links are superseded by construction) and when the last one was sent (cool-down).
LINKS = "links"
LAST_LINK_AT = "lastLinkAt"

INDEXES = (
    IndexSpec(USERS, (("loginEmail", 1),), unique=True, name="login_email_unique"),
    IndexSpec(USERS, (("roles", 1),), name="roles"),
)

StoredAccount = Versioned[UserAccount]


class AccountRepository:
    def __init__(self, db: AsyncDatabase, notify: Notify | None = None):
        self.store: Store[UserAccount] = Store(
            db[USERS], UserAccount, notify, (LINKS, LAST_LINK_AT)
        )
        self._logins = db[LOGINS]

    async def get(self, user_id: str) -> StoredAccount | None:
        return await self.store.get(user_id)

    async def user_id_for(self, login_email: str) -> str | None:
        claim = await self._logins.find_one({"_id": login_email})
        return claim["userId"] if claim else None

    async def by_login(self, login_email: str) -> StoredAccount | None:
        user_id = await self.user_id_for(login_email)
        return await self.get(user_id) if user_id else None

    async def claim_login(self, login_email: str, user_id: str, now: datetime) -> str:
        """The user id that owns ``login_email``: ``user_id`` if this call claimed it."""
        try:
            await self._logins.insert_one({"_id": login_email, "userId": user_id, "at": now})
            return user_id
        except Exception as exc:
            if not is_duplicate_key(exc):
                raise
        owner = await self.user_id_for(login_email)
        assert owner is not None
        return owner

    async def add(
        self, account: UserAccount, events: Sequence[Envelope], extra: dict[str, Any]
    ) -> None:
        """Raise ``AlreadyExists`` if the account was inserted meanwhile."""
        await self.store.insert(account.id, account, events, extra)

    async def save(
        self,
        stored: StoredAccount,
        account: UserAccount,
        events: Sequence[Envelope] = (),
        extra: dict[str, Any] | None = None,
    ) -> StoredAccount:
        version = await self.store.replace(account.id, stored, account, events, extra)
        return Versioned(account, version, {**stored.meta, **(extra or {})})

    async def many(self, user_ids: Iterable[str]) -> dict[str, UserAccount]:
        ids = sorted(set(user_ids))
        if not ids:
            return {}
        return {a.id: a for a in await self.store.find({"_id": {"$in": ids}})}

    async def operators(self) -> list[UserAccount]:
        return await self.store.find({"roles": OPERATOR})


__all__ = [
    "INDEXES",
    "LAST_LINK_AT",
    "LINKS",
    "AccountRepository",
    "AlreadyExists",
    "StoredAccount",
]
