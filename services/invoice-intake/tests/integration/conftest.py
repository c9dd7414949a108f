"""Fixtures for the intake's integration tests: a directory and technical accounts published
on the real broker, EDI folders, files dropped the way partners drop them."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from chorale_contracts import Envelope, Topic, new_envelope, topic_name
from chorale_contracts.events.common import TERMINAL_FLOW_STATUSES
from chorale_contracts.events.directory import DirectorySnapshot
from chorale_contracts.events.identity import TechnicalAccountCreated, TechnicalAccountRevoked
from chorale_intake.settings import IntakeSettings
from chorale_runtime.testing.plugin import settings_for
from chorale_testkit import invoices as samples

BUYER = "20007104100046"  # public structure, code service required
OTHER_BUYER = "21750001600019"  # public structure, no parameters; also deposits (ta-pub)
EJ_BUYER = "13000000000006"  # public structure, numéro d'engagement required
ONE_OF_BUYER = "13000549100010"  # public structure, code service or engagement required
CLOSED_BUYER = "17750000100018"  # public structure, INACTIVE
SUPPLIER = "73282932000074"  # the partner's (private) structure
OTHER_SUPPLIER = "44306184100047"
TERMINAL = {s.value for s in TERMINAL_FLOW_STATUSES}
UBL = "IN_DP_E1_UBL_INVOICE"
CII = "IN_DP_E1_CII_16B"


def today() -> date:
    return date.today()


def snapshot(identifiant: str, *, public: bool = True, version: int = 1,
             parametres: dict[str, Any] | None = None,
             services: Iterable[dict[str, Any]] = ()) -> DirectorySnapshot:
    return DirectorySnapshot(
        identifiant=identifiant, typeIdentifiant="SIRET",
        typeStructure="PUBLIQUE" if public else "PRIVEE", statut="ACTIVE",
        raisonSociale=f"Structure {identifiant}", parametres=parametres or {},
        services=list(services), version=version,
    )


def service(code: str, *, start: date | None = None, end: date | None = None,
            statut: str = "ACTIF", engagement: bool = False) -> dict[str, Any]:
    return {"codeService": code, "libelle": f"Service {code}", "statut": statut,
            "dateDebutActivation": (start or date(2020, 1, 1)).isoformat(),
            "dateFinActivation": end.isoformat() if end else None,
            "numeroEJDoitEtreRenseigne": engagement}


def standard_directory() -> list[DirectorySnapshot]:
    yesterday = today() - timedelta(days=1)
    return [
        snapshot(BUYER, parametres={"codeServiceDoitEtreRenseigne": True}, services=[
            service("COMPTA"),
            service("ANCIEN", end=yesterday),
            service("FERME", statut="INACTIF"),
        ]),
        snapshot(OTHER_BUYER, services=[service("EJ-OBLIG", engagement=True)]),
        snapshot(EJ_BUYER, parametres={"numeroEJDoitEtreRenseigne": True}),
        snapshot(ONE_OF_BUYER, parametres={"gestionNumeroEJOuCodeService": True},
                 services=[service("COMPTA")]),
        DirectorySnapshot(**{**snapshot(CLOSED_BUYER).model_dump(), "statut": "INACTIVE"}),
        snapshot(SUPPLIER, public=False),
    ]


def envelope(payload: Any, key: str) -> Envelope:
    return new_envelope(payload, key=key, producer="test")


def account_created(account: str, structure: str = SUPPLIER) -> Envelope:
    return envelope(TechnicalAccountCreated(technicalAccountId=account, structure=structure,
                                            clientId=f"client-{account}", createdBy="test"),
                    structure)


def account_revoked(account: str, structure: str = SUPPLIER) -> Envelope:
    return envelope(TechnicalAccountRevoked(technicalAccountId=account, structure=structure),
                    structure)


async def publish(infra: Any, namespace: Any, topic: Topic, envelopes: Iterable[Envelope]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for env in envelopes:
            await producer.send_and_wait(topic_name(topic, namespace.topic_prefix),
                                         env.to_bytes(), key=env.key.encode())
    finally:
        await producer.stop()


async def seed(infra: Any, namespace: Any, accounts: Iterable[str] = ("ta-1",),
               directory: Iterable[DirectorySnapshot] | None = None) -> None:
    await publish(infra, namespace, Topic.DIRECTORY,
                  [envelope(s, s.identifiant) for s in (directory or standard_directory())])
    await publish(infra, namespace, Topic.IDENTITY, [account_created(a) for a in accounts])


def invoice(syntax: str = UBL, **overrides: Any) -> bytes:
    kwargs: dict[str, Any] = {
        "buyer_siret": BUYER, "supplier_siret": SUPPLIER, "number": f"FA-{uuid.uuid4().hex[:10]}",
        "issue_date": today() - timedelta(days=2), "service_code": "COMPTA", "lines": 3,
    }
    kwargs.update(overrides)
    return samples.make_invoice(syntax, **kwargs)


def drop(edi_root: Path, account: str, name: str, data: bytes) -> Path:
    """As a partner does: write under a temporary name, then rename into in/."""
    inbox = edi_root / account / "in"
    tmp = inbox / f"{name}.tmp"
    tmp.write_bytes(data)
    target = inbox / name
    os.rename(tmp, target)
    return target


def read_crs(edi_root: Path, account: str) -> dict[str, dict[str, Any]]:
    """The CRs in out/, by original file name."""
    out = edi_root / account / "out"
    crs: dict[str, dict[str, Any]] = {}
    for path in out.glob("*.cr.json") if out.exists() else ():
        cr = json.loads(path.read_text())
        crs[cr["nomFichier"]] = cr
    return crs


async def wait_terminal(edi_root: Path, account: str, names: Iterable[str],
                        timeout: float = 60) -> dict[str, dict[str, Any]]:
    wanted = set(names)
    deadline = time.monotonic() + timeout
    while True:
        crs = await asyncio.to_thread(read_crs, edi_root, account)
        done = {n: c for n, c in crs.items() if n in wanted and c["statut"] in TERMINAL}
        if len(done) == len(wanted):
            return done
        if time.monotonic() > deadline:
            missing = sorted(wanted - set(done))[:10]
            raise TimeoutError(f"{len(done)}/{len(wanted)} terminal; missing e.g. {missing}")
        await asyncio.sleep(0.1)


async def wait_folder(edi_root: Path, account: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not (edi_root / account / "in").is_dir():
        if time.monotonic() > deadline:
            raise TimeoutError(f"EDI folder of {account} not created")
        await asyncio.sleep(0.05)


def codes(cr: dict[str, Any]) -> set[str]:
    return {e["code"] for e in (*cr["listeErreurTechnique"], *cr["listeErreurDP"])}


@pytest.fixture
def edi_root(tmp_path: Path) -> Path:
    return tmp_path / "edi"


@pytest.fixture
def intake_settings(infra: Any, namespace: Any, tmp_path: Path) -> IntakeSettings:
    return settings_for(
        IntakeSettings, infra, namespace,
        edi_root=tmp_path / "edi", archive_dir=tmp_path / "archive",
        edi_scan_interval=0.05, edi_settle_delay=0.5, retry_backoff=0.05,
        retry_backoff_max=0.2, metrics_interval=0.2,
    )


def intake_env(edi_root: Path, archive: Path, **extra: str) -> dict[str, str]:
    return {"CHORALE_EDI_ROOT": str(edi_root), "CHORALE_ARCHIVE_DIR": str(archive),
            "CHORALE_EDI_SCAN_INTERVAL": "0.05", "CHORALE_METRICS_INTERVAL": "0.2",
            "CHORALE_LOG_LEVEL": "INFO", **extra}


@pytest.fixture
def kit() -> Any:
    """The helpers and constants of this module (test modules cannot import a conftest)."""
    return sys.modules[__name__]
