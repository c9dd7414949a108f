"""The local infrastructure's ports stay clear of the ephemeral ports Linux gives outgoing
connections: one held by a client socket when an instance starts makes it fail to bind."""

from __future__ import annotations

from pathlib import Path

from chorale_runtime.testing.infra import load_local_infra

LOCAL_INFRA = Path(__file__).resolve().parents[1] / "deploy" / "local" / "chorale_infra"

EPHEMERAL = range(32768, 61000)  # Linux's default ip_local_port_range


def test_default_and_derived_ports_are_below_the_ephemeral_range():
    infra = load_local_infra(LOCAL_INFRA)
    names = ["dev", "test", "bench", *(f"gw{i}" for i in range(64)), *(str(i) for i in range(500))]
    ports = {name: infra.resolve_ports(name) for name in names}
    for name, chosen in ports.items():
        for port in (chosen.kafka, chosen.controller, chosen.mongo):
            assert port not in EPHEMERAL, (name, port)

