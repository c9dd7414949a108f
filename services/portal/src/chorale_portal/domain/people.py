"""The pages about people (rattachements, habilitations, approbations, users): pure functions
from what the services answer and what a form says to what the pages show and call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chorale_portal.domain.form_errors import FormErrors

MODES = ("CONSULTATION", "MODIFICATION")


def matching_rows(rows: Iterable[Mapping[str, Any]], text: str,
                  fields: Sequence[str]) -> list[Mapping[str, Any]]:
    """The rows where one of `fields` contains `text`, whatever its case (all when empty)."""
    needle = text.strip().casefold()
    if not needle:
        return list(rows)
    return [row for row in rows
            if any(needle in str(row.get(name) or "").casefold() for name in fields)]


# -- a user's habilitations, application by application --------------------------------------
@dataclass(frozen=True)
class Change:
    """One call to the habilitations service: add (POST), change the mode (PATCH), remove
    (DELETE)."""

    action: str  # "add" | "mode" | "remove"
    application: str
    mode: str | None = None
    grant_id: str | None = None
    version: int | None = None


def held_at_level(grants: Iterable[Mapping[str, Any]], code_service: str | None
                  ) -> dict[str, Mapping[str, Any]]:
    """The user's grants at one level (the structure: `None`, or a service), by application."""
    return {g["application"]: g for g in grants
            if (g.get("codeService") or None) == (code_service or None)}


def habilitation_changes(held: Mapping[str, Mapping[str, Any]], applications: Iterable[str],
                         form: Mapping[str, Any]) -> tuple[list[Change], FormErrors]:
    """What turns the grants held at a level into the form's choice, application by
    application (field `mode-<APPLICATION>`: "", CONSULTATION or MODIFICATION). Applications
    the form does not mention are left as they are; nothing is called for an unchanged one."""
    errors = FormErrors()
    changes: list[Change] = []
    for application in applications:
        name = f"mode-{application}"
        if name not in form:
            continue
        wanted = str(form.get(name) or "").strip()
        if wanted and wanted not in MODES:
            errors.add(name, "Choisissez « Aucune », « Consultation » ou « Modification ».")
            continue
        grant = held.get(application)
        if grant is None:
            if wanted:
                changes.append(Change("add", application, wanted))
        elif not wanted:
            changes.append(Change("remove", application, grant_id=grant["grantId"],
                                  version=grant.get("version")))
        elif wanted != grant.get("mode"):
            changes.append(Change("mode", application, wanted, grant["grantId"],
                                  grant.get("version")))
    return changes, errors


def members_view(members: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each attached person with a display name."""
    shown = []
    for m in members:
        name = f"{m.get('prenom') or ''} {m.get('nom') or ''}".strip()
        shown.append({**m, "nomAffiche": name or m.get("email") or m.get("userId")})
    return shown
