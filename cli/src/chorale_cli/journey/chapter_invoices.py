"""4 bis. The invoice made available is processed: the agent takes it in charge and suspends
it, the supplier completes it with an attachment, the agent sets it « mise en paiement »; the
partner finds a CDAR message per status in its EDI out/ folder; the mails reach the right
people."""

from __future__ import annotations

from chorale_cli.journey.http import eventually
from chorale_cli.journey.state import JourneyState


async def invoice_is_processed(s: JourneyState) -> None:
    env = s.env
    if not env.invoices:  # a stack without the invoices service
        return
    env.narrate("4 bis. La facture reçue est traitée : prise en charge, suspension, "
                "complément du fournisseur, mise en paiement")
    agent = s.api(env.invoices, s.user)
    number = f"FA-{env.run_id}-1"

    async def listed() -> dict | None:
        page = await agent.call("GET", "/v1/factures-recues",
                                params={"structure": s.public_siret, "numeroFacture": number},
                                expect=(200, 403))
        rows = page.get("factures", []) if isinstance(page, dict) else []
        return next((r for r in rows if r["statut"] == "MISE_A_DISPOSITION"), None)

    row = await eventually(listed, env.timeout, "the invoice in « Factures reçues »")
    invoice_id = row["invoiceId"]
    s.step(f"« Factures reçues » : {number} ({row['montantTTC']} {row['devise']}), "
           f"{row['libelleStatut']}")
    path = f"/v1/factures-recues/{invoice_id}"
    detail = await agent.call("GET", path)
    original = s.api(env.intake, s.user)
    await original.call("GET", f"/v1/invoices/{invoice_id}/original")
    content = await agent.call("GET", f"/v1/factures/{invoice_id}/contenu")
    assert content["lignes"] and content["ventilationTva"], content
    s.step(f"l'agent ouvre la facture ({len(content['lignes'])} lignes, total TTC "
           f"{content['totaux']['totalTTC']}) et télécharge le fichier original")
    taken = await agent.call("POST", f"{path}/prise-en-charge",
                             headers={"If-Match": f'"{detail["version"]}"'})
    s.step(f"l'agent prend la facture en charge (version {taken['version']})")
    await agent.call("POST", f"{path}/suspendre", json={
        "motif": "JUSTIF_ABS", "commentaire": "Merci de joindre le bon de livraison signé."})
    s.step("l'agent la suspend : justificatif absent")

    supplier = s.api(env.invoices, s.supplier)
    await eventually(lambda: any("suspendue" in m.subject.lower()
                                 for m in env.mailbox.to(s.supplier.email)),
                     env.timeout, "the suspension mail to the supplier")
    s.step("le fournisseur est prévenu par courriel de la suspension")
    seen = await supplier.call("GET", f"/v1/factures-emises/{invoice_id}")
    assert seen["statut"] == "SUSPENDUE", seen
    await supplier.call(
        "POST", f"/v1/factures-emises/{invoice_id}/completer",
        data={"commentaire": "Bon de livraison joint.", "version": str(seen["version"])},
        files={"pieces": ("bon-de-livraison.pdf", b"%PDF-1.4 bon de livraison signe",
                          "application/pdf")})
    s.step("le fournisseur complète la facture (commentaire et pièce jointe)")
    await eventually(lambda: any("complétée" in m.subject.lower()
                                 for m in env.mailbox.to(s.user.email)),
                     env.timeout, "the completion mail to the agent")
    s.step("l'agent est prévenu par courriel du complément")

    for action in ("prise-en-charge", "service-fait", "mandatee", "mise-en-paiement"):
        done = await agent.call("POST", f"{path}/{action}")
    s.step(f"l'agent reprend la facture jusqu'à « {done['libelleStatut']} »")
    await eventually(lambda: any("mise en paiement" in m.subject.lower()
                                 for m in env.mailbox.to(s.supplier.email)),
                     env.timeout, "the payment mail to the supplier")
    s.step("le fournisseur est prévenu par courriel de la mise en paiement")

    outbox = env.edi_root / s.technical_account_id / "out"
    expected = len(done["historique"])

    def cdar_files() -> list | None:
        files = sorted(outbox.glob(f"*-{invoice_id}-*.cdar.xml"))
        return files if len(files) == expected else None

    files = await eventually(cdar_files, env.timeout, "the CDAR files in out/")
    codes = [f.read_text().split("<ram:ProcessConditionCode>")[1][:3] for f in files]
    assert codes[0] == "202" and codes[-1] == "211" and "208" in codes and "209" in codes
    s.step(f"le partenaire trouve {len(files)} messages CDAR dans out/ : {' '.join(codes)}")
    s.invoice_id = invoice_id
