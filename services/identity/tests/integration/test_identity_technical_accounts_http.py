"""Technical accounts: created by the GP or an « Organisation » modification holder, secret
shown once and stored hashed, exchanged for technical tokens, rotated, revoked."""

from __future__ import annotations

import jwt
import pytest

pytestmark = pytest.mark.integration


async def test_technical_account_lifecycle(identity):
    gp = await identity.user()
    siret = await identity.structure(type_structure="PRIVEE", created_by=gp.id)
    base = f"/v1/structures/{siret}/technical-accounts"

    created = await identity.post(base, {"label": "Plateforme EDI"}, headers=gp.headers)
    assert created.status_code == 201, created.text
    account = created.json()
    assert account["clientId"].startswith("ta_") and account["clientSecret"].startswith("tas_")
    secret = account["clientSecret"]
    stored = await identity.ctx.technical.store.col.find_one({"_id": account["clientId"]})
    assert secret not in str(stored)  # only its SHA-256

    listed = (await identity.get(base, headers=gp.headers)).json()["comptesTechniques"]
    assert [a["id"] for a in listed] == [account["id"]]
    assert secret not in str(listed) and "secretHash" not in listed[0]

    issued = await identity.post(
        "/v1/auth/token", {"clientId": account["clientId"], "clientSecret": secret}
    )
    assert issued.status_code == 200, issued.text
    claims = jwt.decode(issued.json()["accessToken"], options={"verify_signature": False})
    assert claims["typ"] == "technical" and claims["structure"] == siret
    assert claims["sub"] == account["id"] and "refreshToken" not in issued.json()
    # A technical token is no person: Mon compte and decisions are refused.
    as_robot = {"Authorization": f"Bearer {issued.json()['accessToken']}"}
    assert (await identity.get("/v1/me", headers=as_robot)).status_code == 403
    assert (await identity.get(base, headers=as_robot)).status_code == 403

    wrong = await identity.post(
        "/v1/auth/token", {"clientId": account["clientId"], "clientSecret": "tas_faux"}
    )
    unknown = await identity.post(
        "/v1/auth/token", {"clientId": "ta_inconnu", "clientSecret": secret}
    )
    assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json())
    assert wrong.json()["code"] == "INVALID_CREDENTIALS"

    rotated = await identity.post(f"{base}/{account['id']}/rotate", headers=gp.headers)
    assert rotated.status_code == 200
    new_secret = rotated.json()["clientSecret"]
    old = await identity.post(
        "/v1/auth/token", {"clientId": account["clientId"], "clientSecret": secret}
    )
    assert old.status_code == 401
    assert (
        await identity.post(
            "/v1/auth/token", {"clientId": account["clientId"], "clientSecret": new_secret}
        )
    ).status_code == 200

    revoked = await identity.post(f"{base}/{account['id']}/revoke", headers=gp.headers)
    assert revoked.status_code == 200 and revoked.json()["status"] == "REVOKED"
    refused = await identity.post(
        "/v1/auth/token", {"clientId": account["clientId"], "clientSecret": new_secret}
    )
    assert refused.status_code == 401 and refused.json()["code"] == "TECHNICAL_ACCOUNT_REVOKED"
    again = await identity.post(f"{base}/{account['id']}/revoke", headers=gp.headers)
    assert again.status_code == 409


async def test_who_may_manage_technical_accounts(identity):
    gp = await identity.user()
    siret = await identity.structure(type_structure="PRIVEE", created_by=gp.id, services=("EDI",))
    holder, consultant, service_holder, stranger = [await identity.user() for _ in range(4)]
    await identity.grant(holder.id, siret, "MODIFICATION")
    await identity.grant(consultant.id, siret, "CONSULTATION")
    await identity.grant(service_holder.id, siret, "MODIFICATION", code_service="EDI")
    base = f"/v1/structures/{siret}/technical-accounts"

    assert (
        await identity.post(base, {"label": "Par le détenteur"}, headers=holder.headers)
    ).status_code == 201
    for refused in (consultant, service_holder, stranger):
        answer = await identity.post(base, {"label": "Refusé"}, headers=refused.headers)
        assert answer.status_code == 403 and answer.json()["code"] == "FORBIDDEN"
    other = await identity.structure(type_structure="PRIVEE", created_by=stranger.id)
    theirs = (
        await identity.post(
            f"/v1/structures/{other}/technical-accounts",
            {"label": "Autre"},
            headers=stranger.headers,
        )
    ).json()
    # An account id of another structure is not found under this one.
    crossed = await identity.post(f"{base}/{theirs['id']}/revoke", headers=gp.headers)
    assert crossed.status_code == 404
