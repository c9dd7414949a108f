"""Bulk notices on the real broker, database and an SMTP server: a partner whose flows are
rejected by the dozen gets one message listing each flow; a user who chose « immédiat » gets
one per flow; preferences say so."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest

from chorale_contracts.events.flows import FlowError, FlowStatusChanged
from chorale_contracts.events.identity import RattachementApproved
from chorale_runtime.testing.kafka_probe import eventually

from .conftest import email_of

pytestmark = pytest.mark.integration

PARTNER = "44306184100047"


def rejected(n: int) -> FlowStatusChanged:
    return FlowStatusChanged(
        numeroFluxDepot=f"FLX-GRP-{n:03d}", statut="IN_REJETE",
        statutPrecedent="IN_EN_COURS_TRAITEMENT", canal="EDI", technicalAccountId="ta-1",
        structurePartenaire=PARTNER, nomFichier=f"lot-{n:03d}.xml",
        dateDepot=datetime(2026, 12, 3, 9, 2, tzinfo=UTC),
        erreurs=[FlowError(code="SERVICE_CODE_REQUIRED", message="Code service requis",
                           level="FACTURE")],
    )


def rejections(smtp, uid: str) -> list:
    return [m for m in smtp.catcher.to(email_of(uid)) if m.category == "FLUX_REJETE"]


async def test_rejections_by_the_dozen_make_one_message_listing_each_flow(
    publish, smtp, notifications, tokens
):
    async with notifications(notice_frequency="GROUPE", notice_digest_seconds=2) as base:
        for uid in ("groupe", "immediat"):
            await publish.user(uid)
            await publish(RattachementApproved(rattachementId=f"r-{uid}", userId=uid,
                                               structure=PARTNER, decidedBy="gp", direct=True),
                          f"r-{uid}")
        async with httpx.AsyncClient(base_url=base,
                                     headers=tokens.headers("immediat")) as client:
            answer = await client.put("/v1/me/preferences",
                                      json={"frequence": {"FLUX_REJETE": "IMMEDIAT"}})
            assert answer.status_code == 200, answer.text
            shown = {f["categorie"]: f["valeur"] for f in answer.json()["frequence"]}
            assert shown == {"FLUX_REJETE": "IMMEDIAT", "FACTURE_MISE_A_DISPOSITION": "GROUPE"}
            refused = await client.put("/v1/me/preferences",
                                       json={"frequence": {"SECURITE_COMPTE": "QUOTIDIEN"}})
            assert refused.json()["code"] == "FREQUENCY_NOT_MODIFIABLE"
        for n in range(12):
            await publish(rejected(n), f"FLX-GRP-{n:03d}")

        grouped = await eventually(lambda: rejections(smtp, "groupe"), timeout=60)
        one_each = await eventually(
            lambda: (m := rejections(smtp, "immediat")) and len(m) >= 12 and m, timeout=60)
    [digest] = grouped
    assert re.fullmatch(r"12 flux rejetés (entre \d+ h \d\d et \d+ h \d\d|à \d+ h \d\d)",
                        digest.subject), digest.subject
    listed = re.findall(r"flux (FLX-GRP-\d{3}) \(fichier lot-\d{3}\.xml", digest.text)
    assert sorted(listed) == [f"FLX-GRP-{n:03d}" for n in range(12)]
    assert "SERVICE_CODE_REQUIRED" in digest.text
    assert sorted(m.subject.split()[3] for m in one_each) == \
        [f"FLX-GRP-{n:03d}" for n in range(12)]
