"""Versioned documents with their outbox: insert once, compare-and-set, events with the write."""

from __future__ import annotations

import pytest

from chorale_contracts import new_envelope
from chorale_contracts.events.structures import StructureCreated
from chorale_runtime.documents import VersionedDocuments
from chorale_runtime.serialized import SerializedDatabase

pytestmark = pytest.mark.integration


def _event(key: str):
    return new_envelope(
        StructureCreated(identifiant=key, typeIdentifiant="SIRET", typeStructure="PRIVEE",
                         raisonSociale="ACME"),
        key=key, producer="test")


async def test_a_document_is_created_once_and_changed_by_compare_and_set(mongo_client,
                                                                          namespace):
    notified: list[tuple[str, str]] = []
    db = SerializedDatabase(mongo_client[namespace.database("documents")])
    docs = VersionedDocuments(db["things"], lambda c, i: notified.append((c, i)))
    assert await docs.insert({"_id": "a", "nom": "un"}, [_event("a")])
    assert not await docs.insert({"_id": "a", "nom": "deux"}, [_event("a")])  # exactly once
    assert notified == [("things", "a")]
    assert await docs.compare_and_set("a", 1, {"nom": "trois"}, [_event("a")])
    assert not await docs.compare_and_set("a", 1, {"nom": "perdu"})  # someone wrote first
    stored = await db["things"].find_one({"_id": "a"})
    assert (stored["nom"], stored["version"], len(stored["outbox"])) == ("trois", 2, 2)
    assert await docs.get("a") == {"_id": "a", "nom": "trois", "version": 2}
