"""The command line: `python3 deploy/local/infra.py provision|start|stop|status|env|...`."""

from __future__ import annotations

import argparse
import os
import sys
import time

from .instances import endpoints, instance_ports, start, status, stop, versions
from .layout import (
    DEFAULT_INSTANCE,
    DEFAULT_TIMEOUT,
    PROG,
    InfraError,
    InstanceStatus,
    Ports,
    ToolMissingError,
    cache_dir,
    layout_of,
    resolve_ports,
    say,
)
from .processes import tail
from .provisioning import provision


def _print_status(st: InstanceStatus, ports: Ports) -> None:
    for svc, extra in ((st.kafka, f" (controller {ports.controller})"), (st.ferretdb, "")):
        if svc.running:
            state = "running" if svc.ready else "running, not answering"
            print(f"{svc.name:<9} {state:<22} pid {svc.pid:<8} 127.0.0.1:{svc.port}{extra}")
        else:
            print(f"{svc.name:<9} {'stopped':<22} {'':<12} 127.0.0.1:{svc.port}{extra}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="infra.py",
        description="Chorale infrastructure without Docker: Kafka (KRaft) + FerretDB (SQLite).",
    )
    parser.add_argument(
        "command", choices=["provision", "start", "stop", "status", "env", "versions", "logs"]
    )
    parser.add_argument(
        "--instance",
        default=os.environ.get("CHORALE_INFRA_INSTANCE", DEFAULT_INSTANCE),
        help="state folder under $CHORALE_STATE_DIR (default: dev; the test suite uses 'test')",
    )
    parser.add_argument(
        "--kafka-port",
        type=int,
        help="Kafka listener (default: dev 9092, test 19092; env CHORALE_KAFKA_PORT)",
    )
    parser.add_argument(
        "--mongo-port",
        type=int,
        help="FerretDB listener (default: dev 27017, test 28017; env CHORALE_MONGO_PORT)",
    )
    parser.add_argument(
        "--kafka-controller-port",
        type=int,
        help="KRaft controller (default: kafka port + 1000; env CHORALE_KAFKA_CONTROLLER_PORT)",
    )
    parser.add_argument("--export", action="store_true", help="env: prefix lines with export")
    parser.add_argument(
        "--fresh", action="store_true", help="start: wipe the instance's data first"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help="start: seconds to wait for readiness",
    )
    parser.add_argument(
        "--lines", "-n", type=int, default=20, help="logs: lines to show from each log"
    )
    args = parser.parse_args(argv)

    try:
        inst = args.instance
        if args.command == "provision":
            started = time.monotonic()
            prov = provision()
            print(f"kafka {prov.kafka_version}: {prov.kafka_libs}")
            print(f"ferretdb {prov.ferretdb_version}: {prov.ferretdb_binary}")
            say(f"provisioned in {time.monotonic() - started:.1f}s (cache {cache_dir()})")
        elif args.command == "start":
            ep = start(
                inst,
                args.kafka_port,
                args.mongo_port,
                fresh=args.fresh,
                timeout=args.timeout,
                controller_port=args.kafka_controller_port,
            )
            print(f"KAFKA_BOOTSTRAP_SERVERS={ep.kafka_bootstrap}")
            print(f"MONGODB_URI={ep.mongodb_uri}")
        elif args.command == "stop":
            messages = stop(inst)
            for m in messages:
                say(m)
            if not messages:
                say(f"instance {inst!r}: nothing was running")
        elif args.command == "status":
            st = status(inst)
            layout = layout_of(inst)
            ports = resolve_ports(
                inst, args.kafka_port, args.mongo_port, args.kafka_controller_port
            )
            if st.kafka.running or st.ferretdb.running:
                ports = instance_ports(layout, ports)
            _print_status(st, ports)
            return 0 if st.ready else 1
        elif args.command == "env":
            ep = endpoints(inst, args.kafka_port, args.mongo_port)
            prefix = "export " if args.export else ""
            print(f"{prefix}KAFKA_BOOTSTRAP_SERVERS={ep.kafka_bootstrap}")
            print(f"{prefix}MONGODB_URI={ep.mongodb_uri}")
        elif args.command == "versions":
            v = versions()
            print(f"kafka {v['kafka']}")
            print(f"ferretdb {v['ferretdb']}")
            print(f"java {v['java']}")
        elif args.command == "logs":
            layout = layout_of(inst)
            for log in (layout.kafka_log, layout.ferretdb_log):
                print(f"==> {log} <==")
                print(tail(log, args.lines) if log.exists() else "    (no log yet)")
        return 0
    except ToolMissingError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except InfraError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
