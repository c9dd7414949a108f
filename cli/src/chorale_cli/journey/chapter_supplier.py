"""4. A supplier registers its structure, creates a technical account and drops three flows."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from chorale_cli.journey.data import yesterday
from chorale_cli.journey.http import eventually
from chorale_cli.journey.people import register_and_verify
from chorale_cli.journey.state import Flow, JourneyState
from chorale_testkit.invoices import make_ubl_invoice

TERMINAL = {"IN_INTEGRE", "IN_REJETE", "IN_INCIDENTE"}


async def supplier_deposits_flows(s: JourneyState) -> None:
    env = s.env
    env.narrate("4. Un fournisseur crée sa structure, un compte technique, et dépose trois flux")
    await register_and_verify(env, s.api(env.identity), s.supplier)
    await s.api(env.structures, s.supplier).call(
        "POST", "/v1/structures", expect=201,
        json={"identifiant": s.supplier_siret, "typeIdentifiant": "SIRET",
              "raisonSociale": s.supplier_name, "adresse": "1 rue des Artisans",
              "codePostal": "10000", "ville": "Troyes", "pays": "FR"},
    )
    s.step(f"structure privée {s.supplier_siret} créée ; son créateur en devient GP")
    identity = s.api(env.identity, s.supplier)
    account = await identity.until(
        "POST", f"/v1/structures/{s.supplier_siret}/technical-accounts", expect=201,
        json={"label": "Connecteur EDI"}, timeout=env.timeout,
    )
    s.technical_account_id = account["id"]
    s.technical_account = account
    s.step(f"compte technique {account['clientId']} créé (secret montré une seule fois)")
    await partner_drops_three_flows(s, account["id"])

    await eventually(lambda: any("factur" in m.subject.lower()
                                 for m in env.mailbox.to(s.user.email)),
                     env.timeout, "the invoice mail to the recipient's user")
    s.step(f"{s.user.name} est prévenu par courriel de la facture mise à disposition")
    rejected = [f.numero for f in s.flows if f.statut == "IN_REJETE"]
    # One mail per rejection, or one listing both (grouped notices): each is told.
    await eventually(lambda: all(any(n in m.text for m in env.mailbox.to(s.supplier.email)
                                     if "rejet" in m.subject.lower()) for n in rejected),
                     env.timeout, "the rejection mails to the supplier")
    s.step("le fournisseur est prévenu par courriel des deux rejets")


async def partner_drops_three_flows(s: JourneyState, account_id: str) -> None:
    """The partner's machine drops three invoices in the technical account's EDI folder (one
    valid, one without the service code the structure requires, one for an expired service)
    and waits for their comptes rendus."""
    env = s.env
    inbox = env.edi_root / account_id / "in"
    await eventually(inbox.is_dir, env.timeout, "the technical account's EDI folder")
    s.step(f"dossier EDI prêt : {inbox}")

    invoice = functools.partial(
        make_ubl_invoice, buyer_siret=s.public_siret, supplier_siret=s.supplier_siret,
        supplier_name=s.supplier_name, buyer_name=s.public_name)
    files = {
        "valide.xml": invoice(number=f"FA-{s.env.run_id}-1", service_code="COMPTA"),
        "sans-code-service.xml": invoice(number=f"FA-{s.env.run_id}-2"),
        "service-expire.xml": invoice(number=f"FA-{s.env.run_id}-3", service_code="ANCIEN"),
    }
    for name, content in files.items():
        part = inbox / f".{name}.part"
        part.write_bytes(content)
        part.rename(inbox / name)  # written under a temporary name, then renamed
    s.step("trois fichiers déposés (écrits sous un nom temporaire puis renommés)")

    outbox = env.edi_root / account_id / "out"
    results = await eventually(lambda: _terminal_crs(outbox, set(files)), env.timeout,
                               "the three terminal comptes rendus")
    for name in files:
        cr = results[name]
        codes = [e["code"] for e in cr["listeErreurTechnique"] + cr["listeErreurDP"]]
        s.flows.append(Flow(name, cr["numeroFluxDepot"], cr["statut"], codes))
        s.step(f"{name} → {cr['statut']} {' '.join(codes)}".rstrip())
    by_name = {f.label: f for f in s.flows}
    assert by_name["valide.xml"].statut == "IN_INTEGRE", by_name
    assert by_name["sans-code-service.xml"].codes == ["SERVICE_CODE_REQUIRED"], by_name
    assert by_name["service-expire.xml"].codes == ["SERVICE_INACTIVE"], by_name
    assert yesterday().isoformat() in json.dumps(results["service-expire.xml"])


def _terminal_crs(outbox: Path, names: set[str]) -> dict[str, dict] | None:
    found: dict[str, dict] = {}
    for path in outbox.glob("*.cr.json"):
        try:
            cr = json.loads(path.read_text())
        except ValueError:  # replaced while we read it
            continue
        if cr.get("nomFichier") in names and cr.get("statut") in TERMINAL:
            found[cr["nomFichier"]] = cr
    return found if set(found) == names else None
