"""A batch of read-model events folded in memory into one change per document (pure).

Events are applied in their order; a grant keeps its highest version and a directory snapshot
its highest version, both compared at write time with what the document holds (an older
version replayed from the topic never overwrites a newer one)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class StructureChanges:
    values: dict[str, Any] = field(default_factory=dict)  # plain `$set`s: gp, members.<id>
    grants: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → grant (+version)
    snapshot: dict[str, Any] | None = None  # {"raisonSociale", "directoryVersion"}

    def put_grant(self, grant_id: str, version: int, grant: dict[str, Any]) -> None:
        held = self.grants.get(grant_id)
        if held is None or held["version"] < version:
            self.grants[grant_id] = {**grant, "version": version}

    def put_snapshot(self, raison_sociale: str, version: int) -> None:
        if self.snapshot is None or self.snapshot["directoryVersion"] < version:
            self.snapshot = {"raisonSociale": raison_sociale, "directoryVersion": version}

    @property
    def needs_stored(self) -> bool:
        return bool(self.grants) or self.snapshot is not None

    def resolve(self, stored: dict[str, Any]) -> dict[str, Any]:
        """The `$set` to write, given the stored document (its grants and snapshot version)."""
        out = dict(self.values)
        held_grants = stored.get("grants") or {}
        for grant_id, grant in self.grants.items():
            if (held_grants.get(grant_id) or {}).get("version", 0) < grant["version"]:
                out[f"grants.{grant_id}"] = grant
        snapshot = self.snapshot
        if snapshot and stored.get("directoryVersion", -1) < snapshot["directoryVersion"]:
            out.update(snapshot)
        return out


@dataclass
class ReadModelChanges:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    structures: dict[str, StructureChanges] = field(default_factory=dict)

    def put_user(self, user_id: str, **fields: Any) -> None:
        values = self.users.setdefault(user_id, {})
        values.update({k: v for k, v in fields.items() if v is not None})

    def structure(self, identifiant: str) -> StructureChanges:
        return self.structures.setdefault(identifiant, StructureChanges())
