"""1–2. An operator imports public structures and designates a gestionnaire principal, who
completes the structure: information, parameters, services, bank details, attachment."""

from __future__ import annotations

from datetime import date

from chorale_cli.journey.data import RIB_PDF, reference_csv, yesterday
from chorale_cli.journey.http import eventually
from chorale_cli.journey.people import PASSWORD, register_and_verify, sign_in
from chorale_cli.journey.state import JourneyState


async def operator_imports_and_designates(s: JourneyState) -> None:
    env = s.env
    env.narrate("1. L'opérateur charge le référentiel des structures publiques et désigne un GP")
    await env.create_operator(s.operator.email, PASSWORD)
    identity = s.api(env.identity)
    await sign_in(identity, s.operator)
    s.step(f"opérateur {s.operator.email} connecté")
    structures = s.api(env.structures, s.operator)
    job = await structures.call(
        "POST", "/v1/structures/imports?nomFichier=referentiel.csv", expect=202,
        content=reference_csv(s.public_siret, s.public_name).encode(),
        headers={"Content-Type": "text/csv"},
    )
    job_id = job["idImport"]

    async def finished() -> dict | None:
        report = await structures.call("GET", f"/v1/structures/imports/{job_id}")
        return report if report["statut"] in ("TERMINE", "ECHEC") else None

    report = await eventually(finished, env.timeout, "the import report")
    assert report["statut"] == "TERMINE" and report["lignes"]["creees"] == 1, report
    s.step(f"import terminé : {report['lignes']['creees']} structure créée ({s.public_siret})")

    await register_and_verify(env, identity, s.gp)
    s.step(f"{s.gp.name} a créé son compte et confirmé son adresse par le lien reçu")
    operator_identity = s.api(env.identity, s.operator)
    found = await operator_identity.call("GET", "/v1/users", params={"email": s.gp.email})
    assert found["utilisateurs"][0]["id"] == s.gp.user_id
    await operator_identity.until(
        "PUT", f"/v1/structures/{s.public_siret}/gestionnaire-principal",
        json={"userId": s.gp.user_id}, timeout=env.timeout,
    )
    s.step(f"{s.gp.name} désigné gestionnaire principal de {s.public_siret}")


async def gp_completes_the_structure(s: JourneyState) -> None:
    env = s.env
    env.narrate("2. Le gestionnaire principal complète sa structure")
    structures = s.api(env.structures, s.gp)
    sid = s.public_siret
    # The GP's rights reach the structures service through events: wait for them.
    await structures.until(
        "PATCH", f"/v1/structures/{sid}", timeout=env.timeout,
        json={"adresseElectronique": "factures@chaourcois.example", "telephone": "0325000000"},
    )
    s.step("informations générales complétées (adresse électronique, téléphone)")
    await structures.call("PUT", f"/v1/structures/{sid}/parametres",
                          json={"codeServiceDoitEtreRenseigne": True})
    s.step("paramètre « code service obligatoire » activé")
    await structures.call(
        "POST", f"/v1/structures/{sid}/services", expect=201,
        json={"codeService": "COMPTA", "libelle": "Comptabilité",
              "dateDebutActivation": "2020-01-01"},
    )
    await structures.call(
        "POST", f"/v1/structures/{sid}/services", expect=201,
        json={"codeService": "ANCIEN", "libelle": "Ancien service",
              "dateDebutActivation": "2020-01-01",
              "dateFinActivation": yesterday().isoformat()},
    )
    s.step(f"services COMPTA (actif) et ANCIEN (fin d'activation le {yesterday()}) créés")
    rib = await structures.call(
        "POST", f"/v1/structures/{sid}/pieces-jointes", expect=201,
        files={"fichier": ("RIB.pdf", RIB_PDF, "application/pdf")},
    )
    bank = await structures.call(
        "POST", f"/v1/structures/{sid}/coordonnees-bancaires", expect=201,
        json={"nom": "Compte Trésor", "type": "IBAN",
              "iban": "FR76 3000 6000 0112 3456 7890 189", "bic": "AGRIFRPPXXX",
              "idPieceJointe": rib["idPieceJointe"]},
    )
    s.step(f"coordonnées bancaires ajoutées ({bank['statut']}) avec le RIB en pièce jointe")
    doc = await structures.call(
        "POST", f"/v1/structures/{sid}/pieces-jointes", expect=201,
        files={"fichier": ("deliberation.pdf", RIB_PDF, "application/pdf")},
    )
    s.step(f"pièce jointe « {doc['nom']} » déposée ({doc['taille']} octets)")
    assert date.today() > yesterday()
