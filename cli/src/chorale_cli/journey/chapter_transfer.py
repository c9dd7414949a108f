"""5. The GP hands the role to the user; the former GP loses what only the GP may do."""

from __future__ import annotations

from chorale_cli.journey.http import UnexpectedAnswer, eventually
from chorale_cli.journey.state import JourneyState


async def gp_hands_over(s: JourneyState) -> None:
    env = s.env
    env.narrate("5. Le gestionnaire principal transfère son rôle à l'utilisateur")
    sid = s.public_siret
    gp = s.api(env.identity, s.gp)
    moved = await gp.call("POST", f"/v1/structures/{sid}/gestionnaire-principal/transfer",
                          json={"toUserId": s.user.user_id})
    assert moved["userId"] == s.user.user_id
    s.step(f"{s.user.name} est le nouveau gestionnaire principal")
    try:
        await gp.call("POST", f"/v1/structures/{sid}/gestionnaire-principal/transfer",
                      json={"toUserId": s.gp.user_id})
        raise AssertionError("the former GP could still transfer the role")
    except UnexpectedAnswer as refused:
        assert refused.status == 403, refused
    s.step("l'ancien GP ne peut plus transférer le rôle (403)")

    structures = s.api(env.structures, s.gp)

    async def parameters_refused() -> bool:
        try:
            await structures.call("PUT", f"/v1/structures/{sid}/parametres",
                                  json={"codeServiceDoitEtreRenseigne": True})
            return False
        except UnexpectedAnswer as refused:
            return refused.status == 403

    await eventually(parameters_refused, env.timeout, "the former GP's loss of rights")
    s.step("l'ancien GP ne peut plus modifier les paramètres de la structure (403)")
    new_gp = s.api(env.structures, s.user)
    await new_gp.until("PUT", f"/v1/structures/{sid}/parametres", timeout=env.timeout,
                       json={"codeServiceDoitEtreRenseigne": True})
    s.step("le nouveau GP, lui, le peut")
