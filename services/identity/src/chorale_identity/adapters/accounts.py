"""User accounts: ``users`` (``_id`` = user id, the ``sub`` of access tokens) and ``logins``
(``_id`` = normalised login e-mail → user id), so both hot lookups read by ``_id``.

Registration claims the login first (an insert: two concurrent registrations of one address
cannot both win), then inserts the account under the user id the claim names. A crash between
the two leaves a claim without an account; the next registration of that address finishes it
under the same id, so the claim is never orphaned for good.

A TOTP seed is stored sealed with the secrets key (``secret_box``, context ``totp:<user id>``);
a clear one an earlier version stored is still read, and ``reseal_totp_secrets`` (run at
start) seals it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from chorale_contracts import Envelope
from chorale_identity.adapters.documents import AlreadyExists, Notify, Store, Versioned
from chorale_identity.adapters.secret_box import SecretBox
from chorale_identity.domain.accounts import OPERATOR, UserAccount
from chorale_runtime.mongo import IndexSpec, insert_once

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


def _totp_context(user_id: Any) -> str:
    return f"totp:{user_id}"


# A few ids are read one by one (see `many`), more with one `$in` query.
BY_ID_UP_TO = 50

class AccountRepository:
    def __init__(self, db: AsyncDatabase, box: SecretBox, notify: Notify | None = None):
        self._box = box
        self.store: Store[UserAccount] = Store(
            db[USERS], UserAccount, notify, (LINKS, LAST_LINK_AT),
            to_stored=self._seal, from_stored=self._open,
        )
        self._logins = db[LOGINS]

    def _seal(self, user_id: Any, doc: dict[str, Any]) -> dict[str, Any]:
        totp = doc.get("totp")
        if not totp:
            return doc
        sealed = self._box.seal_text(totp["secret"], _totp_context(user_id))
        return {**doc, "totp": {**totp, "secret": sealed}}

    def _open(self, doc: dict[str, Any]) -> dict[str, Any]:
        totp = doc.get("totp")
        if not totp:
            return doc
        clear = self._box.open_text(totp["secret"], _totp_context(doc["_id"]))
        return {**doc, "totp": {**totp, "secret": clear}}

    async def reseal_totp_secrets(self) -> int:
        """Seal with the current secrets key every TOTP seed that is not; open every other one
        (a wrong key fails here, at start, not at someone's sign-in). Returns how many changed."""
        changed = 0
        docs = self.store.col.find({"totp": {"$ne": None}}, {"totp": 1, "version": 1})
        async for doc in docs:
            secret = (doc.get("totp") or {}).get("secret")
            if not secret:
                continue
            clear = self._box.open_text(secret, _totp_context(doc["_id"]))
            if self._box.is_current(secret):
                continue
            result = await self.store.col.update_one(
                {"_id": doc["_id"], "version": doc["version"]},
                {"$set": {"totp.secret": self._box.seal_text(clear, _totp_context(doc["_id"]))},
                 "$inc": {"version": 1}},
            )
            changed += result.modified_count  # 0: changed meanwhile, hence stored sealed
        return changed

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
        if await insert_once(self._logins, {"_id": login_email, "userId": user_id, "at": now}):
            return user_id
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
        if len(ids) <= BY_ID_UP_TO:
            # FerretDB answers an exact `_id` in SQLite but decodes every document for `$in`
            found = await asyncio.gather(*(self.store.get(i) for i in ids))
            return {v.value.id: v.value for v in found if v is not None}
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
