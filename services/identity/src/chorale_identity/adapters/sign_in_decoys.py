"""The database work a failed sign-in on an UNKNOWN address pays, so that it costs what a
failed sign-in on an existing account costs (issue 14, account enumeration by timing).

A failure on an existing account reads the login claim, reads the account and stores it with
a compare-and-set (a read by ``_id`` then an update by ``_id``). For an address without an
account, the login claim read misses; then this repository reads and compare-and-sets a decoy
document under the SHA-256 of the address (never the address itself): the same kinds of
operations on a document of the same shape, so the response time does not tell the two apart.
The first failure for an address inserts its decoy instead (an account's first failure is an
update): one write either way. Housekeeping forgets decoys untouched for a day.
"""

from __future__ import annotations

from datetime import datetime

from pymongo.asynchronous.database import AsyncDatabase

from chorale_identity.domain.secrets_util import fingerprint
from chorale_runtime.mongo import insert_once

DECOYS = "sign_in_decoys"


class SignInDecoys:
    def __init__(self, db: AsyncDatabase):
        self._col = db[DECOYS]

    async def record_failure(self, address: str, now: datetime) -> None:
        key = fingerprint(address.strip().lower())
        doc = await self._col.find_one({"_id": key})
        if doc is None:
            await insert_once(
                self._col, {"_id": key, "version": 1, "failures": 1, "lastFailedSignInAt": now}
            )
            return
        await self._col.update_one(
            {"_id": key, "version": doc.get("version", 0)},
            {"$set": {"lastFailedSignInAt": now}, "$inc": {"version": 1, "failures": 1}},
        )

    async def forget_older_than(self, before: datetime) -> int:
        result = await self._col.delete_many({"lastFailedSignInAt": {"$lt": before}})
        return result.deleted_count
