"""« Déposer une facture » (Factures émises, for suppliers without EDI or API): a supplier's user
holding « Factures émises » in modification deposits an invoice file (UBL, CII or Factur-X),
or fills in the invoice form that the portal turns into an EN 16931 CII (domain/invoice_entry);
either way the intake receives it on its channel PORTAIL with the person's own token, and the
person follows the flow's compte rendu on `/depot-facture/flux/{numero}`.

The services decide: the intake refuses a deposit without the habilitation; this page only
offers the structures where the person holds it (habilitations' « Mes habilitations »)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from chorale_portal.adapters.services_api import ApiProblem
from chorale_portal.domain import invoice_entry
from chorale_portal.domain.form_errors import FormErrors, form_errors
from chorale_portal.domain.invoice_entry import Party
from chorale_portal.entrypoints.uploads import declared_too_large, uploaded_file
from chorale_portal.entrypoints.web import (
    call,
    checked_form,
    is_operator,
    redirect,
    render,
    signed_in,
)

# The intake's own limit (CHORALE_MAX_BYTES, 10 MiB by default) is what counts; the portal
# refuses a larger upload before sending it on.
MAX_INVOICE_BYTES = 10 * 1024 * 1024
TOO_LARGE = "Le fichier dépasse la taille maximale de 10 Mo : une facture par fichier."
TERMINAL = {"IN_INTEGRE", "IN_REJETE", "IN_INCIDENTE"}
NO_STRUCTURE = ("Vous n'avez l'habilitation « Factures émises » en modification sur aucune "
                "structure : demandez-la au gestionnaire principal de votre structure.")
NOT_FOR_OPERATORS = ("Le dépôt de factures est réservé aux utilisateurs d'une structure "
                     "fournisseur ; un opérateur n'émet pas de factures.")


async def deposit_structures(request: Request) -> dict[str, str]:
    """The structures where the person may deposit: {identifiant: raison sociale}. Refused
    (the « Accès refusé » page) when there is none."""
    if is_operator(await signed_in(request)):
        raise ApiProblem(403, "FORBIDDEN", NOT_FOR_OPERATORS)
    found = await call(request, "habilitations", "GET", "/v1/me/habilitations",
                       params={"application": "FACTURES_EMISES", "mode": "MODIFICATION"})
    structures = {row["structure"]: row.get("raisonSociale") or row["structure"]
                  for row in found.get("habilitations", []) if not row.get("codeService")}
    if not structures:
        raise ApiProblem(403, "FORBIDDEN", NO_STRUCTURE)
    return dict(sorted(structures.items(), key=lambda kv: kv[1].lower()))


def _choice(structures: dict[str, str], value: object) -> str:
    """The structure asked for if the person may deposit there, else their first one."""
    return value if isinstance(value, str) and value in structures else next(iter(structures))


def _options(structures: dict[str, str]) -> dict[str, str]:
    return {sid: f"{name} ({sid})" for sid, name in structures.items()}


def build_router() -> APIRouter:
    router = APIRouter()

    async def deposit_page(request: Request, structures: dict[str, str], *, status: int = 200,
                           errors: FormErrors | None = None, form: Any = None) -> Response:
        chosen = _choice(structures, (form or {}).get("structure")
                         or request.query_params.get("structure"))
        return render(request, "deposit.html", status=status, errors=errors,
                      form={"structure": chosen}, structures=_options(structures),
                      max_mb=MAX_INVOICE_BYTES // (1024 * 1024), title="Déposer une facture")

    @router.get("/depot-facture")
    async def deposit(request: Request) -> Response:
        return await deposit_page(request, await deposit_structures(request))

    @router.post("/depot-facture/fichier")
    async def deposit_file(request: Request) -> Response:
        structures = await deposit_structures(request)
        if declared_too_large(request, MAX_INVOICE_BYTES):
            return await deposit_page(request, structures, status=413,
                                      errors=FormErrors(fields={"fichier": TOO_LARGE}))
        form = await checked_form(request)
        errors = FormErrors()
        structure = form.get("structure")
        if structure not in structures:
            errors.add("structure", "Structure émettrice : choisissez l'une des vôtres.")
        file = uploaded_file(form, errors, limit=MAX_INVOICE_BYTES, too_large=TOO_LARGE,
                             missing="Fichier de la facture : choisissez un fichier.")
        if errors or file is None:
            return await deposit_page(request, structures, status=400, errors=errors, form=form)
        await file.seek(0)
        try:
            receipt = await call(
                request, "invoice-intake", "POST", "/v1/flows/portail",
                params={"structurePartenaire": structure},
                files={"fichier": (file.filename or "facture.xml", file.file,
                                   file.content_type or "application/octet-stream")})
        except ApiProblem as exc:
            return await deposit_page(request, structures, status=exc.status, form=form,
                                      errors=form_errors(exc.code, exc.message, exc.details,
                                                         code_fields={
                                                             "FLOW_TOO_LARGE": "fichier"}))
        return redirect(_flow_path(receipt["numeroFluxDepot"]), "facture_deposee")

    # -- saisie ---------------------------------------------------------------------------
    async def recipient_of(request: Request, siret: str | None) -> dict | None:
        if not siret:
            return None
        try:
            return await call(request, "invoice-intake", "GET",
                              f"/v1/flows/portail/destinataires/{quote(siret, safe='')}")
        except ApiProblem as exc:
            if exc.status == 404:
                return None
            raise

    async def seller_of(request: Request, structure: str, name: str) -> Party:
        """The supplier as its structure's page gives it; its name alone when the person may
        not read that page (« Factures émises » without « Organisation »)."""
        try:
            found = await call(request, "structures", "GET",
                               f"/v1/structures/{quote(structure, safe='')}")
        except ApiProblem:
            return Party(structure, name)
        return Party(structure, found.get("raisonSociale") or name, found.get("adresse"),
                     found.get("codePostal"), found.get("ville"),
                     (found.get("pays") or "FR")[:2].upper(), found.get("numeroTva"))

    async def entry_page(request: Request, structures: dict[str, str], form: Any, *,
                         status: int = 200, errors: FormErrors | None = None,
                         recipient: dict | None = None, looked_up: bool = False) -> Response:
        preview = FormErrors()
        lines = invoice_entry.lines_of(form, preview)
        return render(request, "invoice_entry.html", status=status, errors=errors, form=form,
                      structure_id=_choice(structures, form.get("structure")),
                      structures=_options(structures), recipient=recipient,
                      looked_up=looked_up, line_count=invoice_entry.line_count(form),
                      rates=invoice_entry.VAT_RATES,
                      totals=invoice_entry.totals(lines) if lines else None,
                      title="Saisir une facture")

    @router.get("/depot-facture/saisie")
    async def entry_form(request: Request) -> Response:
        structures = await deposit_structures(request)
        form = {**invoice_entry.default_form(date.today()),
                "structure": _choice(structures, request.query_params.get("structure"))}
        return await entry_page(request, structures, form)

    @router.post("/depot-facture/saisie")
    async def enter_invoice(request: Request) -> Response:
        structures = await deposit_structures(request)
        form: dict[str, Any] = {k: v for k, v in (await checked_form(request)).items()
                                if isinstance(v, str)}
        action = form.get("action")
        siret = (form.get("destinataire") or "").replace(" ", "") or None
        recipient = await recipient_of(request, siret)
        if action == "ligne":
            form["lignes"] = str(min(invoice_entry.line_count(form) + 1,
                                     invoice_entry.MAX_LINES))
            return await entry_page(request, structures, form, recipient=recipient,
                                    looked_up=bool(siret))
        if action == "destinataire":
            errors = FormErrors()
            if recipient is None:
                errors.add("destinataire", "Destinataire : aucune structure publique de "
                           "l'annuaire n'a ce SIRET.")
            return await entry_page(request, structures, form, errors=errors,
                                    status=400 if errors else 200, recipient=recipient,
                                    looked_up=bool(siret))
        structure = form.get("structure") or ""
        if structure not in structures:
            return await entry_page(request, structures, form, status=400, errors=FormErrors(
                top=["Structure émettrice : choisissez l'une des vôtres."]))
        seller = await seller_of(request, structure, structures[structure])
        buyer = Party(recipient["identifiant"], recipient.get("raisonSociale")
                      or recipient["identifiant"]) if recipient else None
        entry, errors = invoice_entry.entry_of(form, seller=seller, buyer=buyer,
                                               today=date.today())
        if entry is None:
            return await entry_page(request, structures, form, status=400, errors=errors,
                                    recipient=recipient, looked_up=bool(siret))
        try:
            receipt = await call(
                request, "invoice-intake", "POST", "/v1/flows/portail",
                params={"structurePartenaire": structure, "syntaxeFlux": "IN_DP_E1_CII_16B",
                        "nomFichier": invoice_entry.file_name(entry)},
                content=invoice_entry.cii_invoice(entry),
                headers={"Content-Type": "application/xml"})
        except ApiProblem as exc:
            return await entry_page(request, structures, form, status=exc.status,
                                    errors=form_errors(exc.code, exc.message, exc.details),
                                    recipient=recipient, looked_up=bool(siret))
        return redirect(_flow_path(receipt["numeroFluxDepot"]), "facture_deposee")

    # -- the flow's compte rendu ----------------------------------------------------------
    @router.get("/depot-facture/flux/{numero}")
    async def flow(request: Request, numero: str) -> Response:
        cr = await call(request, "invoice-intake", "GET", f"/v1/flows/{quote(numero, safe='')}")
        in_progress = cr.get("statut") not in TERMINAL
        return render(request, "deposit_flow.html", cr=cr, in_progress=in_progress,
                      title=f"Compte rendu du flux {cr['numeroFluxDepot']}")

    return router


def _flow_path(numero: str) -> str:
    return f"/depot-facture/flux/{quote(numero, safe='')}"
