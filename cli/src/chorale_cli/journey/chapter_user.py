"""3. A user asks to be attached to a service; the GP approves; habilitations follow."""

from __future__ import annotations

from chorale_cli.journey.http import eventually
from chorale_cli.journey.people import register_and_verify
from chorale_cli.journey.state import JourneyState


async def user_joins_a_service(s: JourneyState) -> None:
    env = s.env
    env.narrate("3. Un utilisateur demande son rattachement au service COMPTA")
    identity = s.api(env.identity)
    await register_and_verify(env, identity, s.user)
    s.step(f"{s.user.name} a créé son compte et confirmé son adresse")
    mine = s.api(env.identity, s.user)
    await mine.call("POST", "/v1/rattachements", expect=201,
                    json={"structure": s.public_siret, "codeService": "COMPTA",
                          "commentaire": "Agent comptable du service"})
    s.step("demande de rattachement envoyée")

    gp = s.api(env.identity, s.gp)
    rows = await gp.call("GET", f"/v1/structures/{s.public_siret}/approbations",
                         params={"etat": "EN_COURS_DE_VALIDATION"})
    row = next(r for r in rows["approbations"] if s.user.email in r["demandeur"])
    s.step(f"le GP voit la demande dans « Approbations » ({row['etat']}, service "
           f"{row['service']})")
    await gp.call("POST", f"/v1/rattachements/{row['id']}/approve",
                  json={"commentaire": "Bienvenue"})
    s.step("le GP approuve le rattachement")
    await eventually(lambda: any("rattachement" in m.subject.lower()
                                 for m in env.mailbox.to(s.user.email)),
                     env.timeout, "the approval mail")
    s.step("l'utilisateur est prévenu par courriel de l'approbation")

    habilitations = s.api(env.habilitations, s.user)

    async def defaults() -> list[dict] | None:
        rows = (await habilitations.call("GET", "/v1/me/habilitations"))["habilitations"]
        return rows if len(rows) >= 12 else None

    grants = await eventually(defaults, env.timeout, "the default habilitations")
    modes = {g["mode"] for g in grants}
    assert modes == {"CONSULTATION"} and {g["codeService"] for g in grants} == {"COMPTA"}
    s.step(f"« Mes habilitations » : {len(grants)} profils en consultation sur COMPTA")

    admin = s.api(env.habilitations, s.gp)
    listed = await admin.call(
        "GET", f"/v1/structures/{s.public_siret}/habilitations",
        params={"userId": s.user.user_id, "application": "FACTURES_RECUES"},
    )
    grant = listed["habilitations"][0]
    await admin.call("PATCH", f"/v1/habilitations/{grant['grantId']}",
                     json={"mode": "MODIFICATION"})
    s.step("le GP passe l'utilisateur en modification sur « Factures reçues »")
