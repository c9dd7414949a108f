"""« Approbations »: a structure's rattachements as its gestionnaires see them, filtered,
or exported as CSV. A holder of « Organisation » modification on one service sees that
service's rows only; the GP, structure-level holders and operators see every row."""

from __future__ import annotations

from dataclasses import dataclass

from chorale_contracts.events.common import Application, Mode
from chorale_identity.domain.accounts import UserAccount
from chorale_identity.domain.approbations import (
    ApprobationRow,
    approbation_rows,
    approbations_table,
    filter_rows,
)
from chorale_identity.domain.rattachements import (
    Rattachement,
    RattachementStatus,
    normalise_identifiant,
)
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


async def managed_part(
    ctx: IdentityContext, principal: Principal, identifiant: str, found: list[Rattachement]
) -> list[Rattachement]:
    """The rattachements of a structure its gestionnaire may see: all of them for the GP and
    structure-level holders, those of their services for a service-level holder; 403 for
    anyone else."""
    if await may_manage(ctx.authorizer, principal, identifiant):
        return found
    services = {r.code_service for r in found if r.code_service}
    allowed = {s for s in services if await may_manage(ctx.authorizer, principal, identifiant, s)}
    if not allowed:
        await require_gestionnaire(ctx.authorizer, principal, identifiant)  # raises 403
    return [r for r in found if r.code_service in allowed]


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
    found = await managed_part(
        ctx, principal, identifiant, await ctx.rattachements.of_structure(identifiant)
    )
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


@dataclass(frozen=True)
class Managed:
    """A structure the person manages: all of it (``services`` None) or only these services."""

    identifiant: str
    raison_sociale: str | None
    services: tuple[str, ...] | None
    gestionnaire_principal: bool

    def covers(self, code_service: str | None) -> bool:
        return self.services is None or code_service in self.services

    def view(self) -> dict:
        return {
            "identifiant": self.identifiant,
            "raisonSociale": self.raison_sociale,
            "services": list(self.services) if self.services is not None else None,
            "gestionnairePrincipal": self.gestionnaire_principal,
        }


async def managed_structures(ctx: IdentityContext, account: UserAccount) -> list[Managed]:
    """Where the person is a gestionnaire: the structures whose GP they are, and those where
    they hold « Organisation » in MODIFICATION (a service-level grant: that service only).
    Operators' platform-wide power is not an inbox: they see what they manage themselves."""
    gp_of = set(await ctx.gestionnaires.structures_of(account.id))
    grants, deactivated = await ctx.authorizer.grants_of(account.id)
    if deactivated:
        return []
    whole = set(gp_of)
    services: dict[str, set[str]] = {}
    for grant in grants:
        if grant.application is not Application.ORGANISATION or grant.mode is not Mode.MODIFICATION:
            continue
        if grant.code_service is None:
            whole.add(grant.structure)
        else:
            services.setdefault(grant.structure, set()).add(grant.code_service)
    names = await ctx.structures.many(whole | set(services))
    managed = [
        Managed(
            identifiant,
            names[identifiant].raison_sociale if identifiant in names else None,
            None if identifiant in whole else tuple(sorted(services[identifiant])),
            identifiant in gp_of,
        )
        for identifiant in whole | set(services)
    ]
    return sorted(managed, key=lambda m: ((m.raison_sociale or "").casefold(), m.identifiant))


async def my_approbations(
    ctx: IdentityContext,
    account: UserAccount,
    wanted: ApprobationFilter,
    structure: str | None = None,
) -> tuple[list[Managed], list[ApprobationRow], int]:
    """« Approbations » across every structure the person manages: the structures, the rows
    the filter keeps, and how many requests wait for a decision (the header's badge)."""
    managed = await managed_structures(ctx, account)
    scope = {m.identifiant: m for m in managed}
    found = await ctx.rattachements.of_structures(sorted(scope))
    # Nobody decides their own request: it is not waiting for them.
    found = [
        r for r in found
        if scope[r.identifiant_structure].covers(r.code_service) and r.user_id != account.id
    ]
    waiting = sum(1 for r in found if r.status is RattachementStatus.EN_COURS_DE_VALIDATION)
    # Narrowed before the requesters' names are read (the menu asks for the waiting ones only).
    if wanted.etats is not None:
        found = [r for r in found if r.status in wanted.etats]
    if structure:
        found = [r for r in found if r.identifiant_structure == "".join(structure.split())]
    people = await ctx.accounts.many(r.user_id for r in found)
    rows = approbation_rows(
        found,
        lambda user_id: demandeur_label(people.get(user_id), user_id),
        lambda identifiant: scope[identifiant].raison_sociale,
    )
    rows = filter_rows(rows, service=wanted.service, texte=wanted.texte)
    if wanted.demandeur:
        needle = wanted.demandeur.strip().casefold()
        rows = [row for row in rows if needle in row.demandeur.casefold()]
    return managed, rows, waiting
