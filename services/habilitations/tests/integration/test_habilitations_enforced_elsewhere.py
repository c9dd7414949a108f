"""A revocation made through the habilitations API is enforced by ANOTHER service's API — the
structures service, in-process on the same broker, deciding from its own local read model —
within 2 seconds (measured)."""

from __future__ import annotations

import random
import time

import httpx
import pytest

from chorale_runtime.testing.kafka_probe import eventually
from chorale_runtime.testing.plugin import settings_for
from chorale_runtime.testing.servers import serve_in_process
from chorale_structures.bootstrap import build_app as build_structures
from chorale_structures.settings import StructuresSettings

pytestmark = pytest.mark.integration


def _luhn_completed(digits: str) -> str:
    for check in "0123456789":
        total = 0
        for i, d in enumerate(reversed(digits + check)):
            n = int(d) * (2 if i % 2 else 1)
            total += n - 9 if n > 9 else n
        if total % 10 == 0:
            return digits + check
    raise AssertionError("unreachable")


def new_siret() -> str:
    siren = _luhn_completed("".join(random.choice("123456789") for _ in range(8)))
    return _luhn_completed(siren + "".join(random.choice("0123456789") for _ in range(4)))


async def test_a_revocation_is_enforced_by_the_structures_api_within_two_seconds(habil):
    settings = settings_for(StructuresSettings, habil.infra, habil.namespace)
    structures_app = build_structures(settings, verifier=habil.tokens.verifier())
    owner, reader = habil.new_user("owner"), habil.new_user("reader")
    async with serve_in_process(structures_app) as structures, httpx.AsyncClient() as http:
        siret = new_siret()
        r = await http.post(f"{structures}/v1/structures", headers=habil.as_user(owner),
                            json={"identifiant": siret, "raisonSociale": "Fournisseur Test"})
        assert r.status_code == 201, r.text
        url = f"{structures}/v1/structures/{siret}"
        assert (await http.get(url, headers=habil.as_user(reader))).status_code == 403

        # identity says: reader is attached → default grants (Organisation consultation).
        await habil.attach(reader, siret)
        await habil.wait_grants(reader, 12)

        async def readable():
            return (await http.get(url, headers=habil.as_user(reader))).status_code == 200

        await eventually(readable, timeout=30)

        org = (await habil.grants(reader, application="ORGANISATION"))[0]
        r = await habil.http.delete(f"{habil.base}/v1/habilitations/{org['grantId']}",
                                    headers=habil.tokens.operator())
        assert r.status_code == 200, r.text
        revoked_at = time.monotonic()
        while True:
            answer = await http.get(url, headers=habil.as_user(reader))
            elapsed = time.monotonic() - revoked_at
            if answer.status_code == 403:
                break
            assert answer.status_code == 200, answer.text
            assert elapsed < 2.0, "the structures service still allows 2 s after the revocation"
        assert answer.json()["details"]["raison"] == "NO_GRANT"
        print(f"\nrevocation enforced by the structures service after {elapsed * 1000:.0f} ms")
        assert elapsed < 2.0
