"""« Approbations »: a structure's rattachements as its gestionnaires see them, filtered,
or exported as CSV. A holder of « Organisation » modification on one service sees that
service's rows only; the GP, structure-level holders and operators see every row."""

from __future__ import annotations

from dataclasses import dataclass

from chorale_identity.domain.accounts import UserAccount
from chorale_identity.domain.approbations import (
    ApprobationRow,
    approbation_rows,
    approbations_table,
    filter_rows,
)
from chorale_identity.domain.rattachements import RattachementStatus, normalise_identifiant
from chorale_identity.service_layer import errors
from chorale_identity.service_layer.access import may_manage, require_gestionnaire
from chorale_identity.service_layer.context import IdentityContext
from chorale_runtime.auth import Principal
from chorale_runtime.csv_safe import csv_document


@dataclass(frozen=True)
class ApprobationFilter:
    etats: tuple[RattachementStatus, ...] | None = None
    service: str | None = None
    demandeur: str | None = None
    texte: str | None = None


def demandeur_label(account: UserAccount | None, user_id: str) -> str:
    if account is None:
        return user_id
    return f"{account.prenom} {account.nom} ({account.login_email})"


async def approbations(
    ctx: IdentityContext, principal: Principal, structure: str, wanted: ApprobationFilter
) -> list[ApprobationRow]:
    identifiant = normalise_identifiant(structure)
    known = await ctx.structures.get(identifiant)
    if known is None:
        raise errors.structure_not_found(identifiant)
    found = await ctx.rattachements.of_structure(identifiant)
    if not await may_manage(ctx.authorizer, principal, identifiant):
        services = {r.code_service for r in found if r.code_service}
        allowed = {
            s for s in services if await may_manage(ctx.authorizer, principal, identifiant, s)
        }
        if not allowed:
            await require_gestionnaire(ctx.authorizer, principal, identifiant)  # raises 403
        found = [r for r in found if r.code_service in allowed]
    people = await ctx.accounts.many(r.user_id for r in found)
    rows = approbation_rows(
        found,
        lambda user_id: demandeur_label(people.get(user_id), user_id),
        lambda _identifiant: known.raison_sociale,
    )
    rows = filter_rows(rows, etats=wanted.etats, service=wanted.service, texte=wanted.texte)
    if wanted.demandeur:
        needle = wanted.demandeur.strip().casefold()
        rows = [row for row in rows if needle in row.demandeur.casefold()]
    return rows


def as_csv(rows: list[ApprobationRow]) -> bytes:
    return csv_document(approbations_table(rows))
