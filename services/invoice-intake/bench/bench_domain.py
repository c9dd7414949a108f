"""Throughput of the intake's pure domain on one core (no Kafka, no database).

    uv run python services/invoice-intake/bench/bench_domain.py [--count 1000]

Generates invoices of varied sizes (half UBL, half CII), then times, on the same files:
1. raw lxml: hardened parse + XSD validation;
2. `analyse`: safe parse (with the DOCTYPE probe) + syntax + XSD + extraction;
3. `analyse` + `check_invoice`.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import date

from lxml import etree

from chorale_intake.domain import xsd
from chorale_intake.domain.analysis import analyse
from chorale_intake.domain.directory import RecipientEntry
from chorale_intake.domain.rules import check_invoice
from chorale_intake.domain.syntax import detect_root
from chorale_intake.domain.xml_safety import hardened_parser
from chorale_testkit import invoices as samples

BUYER, SUPPLIER = "20007104100046", "73282932000074"


def line_count(rng: random.Random) -> int:
    draw = rng.random()
    if draw < 0.6:
        return rng.randint(1, 10)
    if draw < 0.9:
        return rng.randint(11, 50)
    return rng.randint(51, 300)


def generate(count: int) -> list[tuple[str, bytes]]:
    rng = random.Random(42)
    files = []
    for i in range(count):
        syntax = "IN_DP_E1_UBL_INVOICE" if i % 2 == 0 else "IN_DP_E1_CII_16B"
        raw = samples.make_invoice(
            syntax,
            buyer_siret=BUYER,
            supplier_siret=SUPPLIER,
            number=f"FA-{i:06d}",
            issue_date=date(2024, 6, 3),
            service_code="SERV-COMPTA" if i % 3 else None,
            engagement=f"EJ-{i}" if i % 4 else None,
            lines=line_count(rng),
        )
        files.append((syntax, raw))
    return files


def timed(label: str, files: list[tuple[str, bytes]], step) -> float:  # type: ignore[no-untyped-def]
    latencies = []
    started = time.perf_counter()
    for syntax, raw in files:
        t0 = time.perf_counter()
        step(syntax, raw)
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    rate = len(files) / elapsed
    p50 = statistics.median(latencies) * 1000
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000
    print(f"{label:<34} {rate:8.0f} invoices/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    started = time.perf_counter()
    files = generate(args.count)
    generation = time.perf_counter() - started
    sizes = [len(raw) for _, raw in files]
    print(
        f"{len(files)} invoices generated in {generation:.2f} s; size min {min(sizes)} B, "
        f"median {int(statistics.median(sizes))} B, max {max(sizes)} B, "
        f"total {sum(sizes) / 1e6:.1f} MB"
    )
    xsd.warm_up()
    recipient = RecipientEntry.model_validate(
        {
            "identifiant": BUYER,
            "typeStructure": "PUBLIQUE",
            "statut": "ACTIVE",
            "services": [
                {
                    "codeService": "SERV-COMPTA",
                    "statut": "ACTIF",
                    "dateDebutActivation": "2020-01-01",
                }
            ],
        }
    )

    def raw_lxml(_syntax: str, raw: bytes) -> None:
        root = etree.fromstring(raw, hardened_parser())
        assert xsd.validate_xsd(root, detect_root(root)) == []

    def domain(syntax: str, raw: bytes) -> None:
        assert analyse(raw, syntax).accepted

    def with_rules(syntax: str, raw: bytes) -> None:
        analysis = analyse(raw, syntax)
        assert analysis.facts is not None
        check_invoice(
            analysis.facts,
            partner_identifier=SUPPLIER,
            recipient=recipient,
            today=date(2024, 6, 14),
            is_duplicate=False,
        )

    for _ in range(2):  # the first round warms caches; the second is reported
        results = [
            timed("lxml parse + XSD", files, raw_lxml),
            timed("analyse (parse+syntax+XSD+extract)", files, domain),
            timed("analyse + check_invoice", files, with_rules),
        ]
    print(f"ratio analyse / raw lxml: {results[1] / results[0]:.2f}")
    print(f"throughput: {sum(sizes) / 1e6 / (len(files) / results[1]):.1f} MB/s through analyse")


if __name__ == "__main__":
    main()
