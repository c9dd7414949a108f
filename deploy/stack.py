"""`make up` / `make down` / `make status` / `make logs`: runs every Chorale service as its own
process next to Kafka and the database, on this machine, without Docker.

Kafka and the database come from `KAFKA_BOOTSTRAP_SERVERS` / `MONGODB_URI` when both are set,
otherwise from the project's local processes (deploy/local/chorale_infra, instance `dev`).
State lives under var/stack/: `logs/<service>.log`, `run/<service>.pid`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATE = Path(os.environ.get("CHORALE_STACK_DIR", ROOT / "var" / "stack"))
sys.path.insert(0, str(ROOT / "deploy" / "local"))
import chorale_infra as infra  # noqa: E402  (deploy/local/chorale_infra, stdlib only)
from chorale_cli.services import KEY_ISSUER, SERVICES, in_start_order, jwks_url  # noqa: E402


@dataclass(frozen=True)
class Proc:
    name: str
    module: str
    port: int
    env: dict[str, str] = field(default_factory=dict)
    probe: str = "/ready"


PORTAL_URL = SERVICES["portal"].local_url

MAIL_CATCHER = Proc(
    "mailcatcher", "chorale_cli.mailcatcher", 8025,
    {"CHORALE_MAILCATCHER_DIR": str(ROOT / "var" / "mail"), "CHORALE_SMTP_PORT": "2525"},
    probe="/health",
)


def _development_env() -> dict[str, dict[str, str]]:
    """Settings of a development stack beyond the defaults, by service."""
    var = ROOT / "var"
    return {
        "identity": {
            "CHORALE_PUBLIC_BASE_URL": PORTAL_URL,  # mail links open the portal's pages
            # the portal (same host) passes each browser's address on: rate limits per person
            "CHORALE_TRUSTED_PROXIES": "127.0.0.1,::1",
            "CHORALE_SECRETS_KEY_FILE": str(var / "identity" / "secrets.key"),
        },
        "invoice-intake": {"CHORALE_EDI_ROOT": str(var / "edi"),
                           "CHORALE_ARCHIVE_DIR": str(var / "archive")},
        # Grouped notices every 20 s: on a development stack they show up quickly.
        "notifications": {"CHORALE_SMTP_HOST": "127.0.0.1", "CHORALE_SMTP_PORT": "2525",
                          "CHORALE_NOTICE_DIGEST_SECONDS": "20"},
        "invoices": {"CHORALE_EDI_ROOT": str(var / "edi")},
        "portal": {"CHORALE_PARTNER_EDI_ROOT": str(var / "edi")},
    }


def processes() -> list[Proc]:
    """The mail catcher, then every service of the registry (chorale_cli.services)."""
    extra = _development_env()
    return [MAIL_CATCHER] + [
        Proc(s.name, s.module, s.port, extra.get(s.name, {})) for s in in_start_order()
    ]


def _common_env(endpoints: dict[str, str]) -> dict[str, str]:
    return {
        **endpoints,
        "CHORALE_JWKS_URL": jwks_url(SERVICES[KEY_ISSUER].local_url),
        **{s.url_setting: s.local_url for s in SERVICES.values()},
    }


def _service_secret_env() -> dict[str, dict[str, str]]:
    """The secret notifications presents to identity for mail links (identity gets only its
    SHA-256). Made once per machine, kept in var/stack/ with mode 0600, so services restarted
    one at a time still agree."""
    path = STATE / "mail-links.secret"
    if not path.exists():
        STATE.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32))
    secret = path.read_text().strip()
    return {
        "identity": {
            "CHORALE_MAIL_LINKS_CLIENT_SECRET_SHA256": hashlib.sha256(secret.encode()).hexdigest()
        },
        "notifications": {"CHORALE_MAIL_LINKS_CLIENT_SECRET": secret},
    }


def _pid_file(name: str) -> Path:
    return STATE / "run" / f"{name}.pid"


def _log_file(name: str) -> Path:
    return STATE / "logs" / f"{name}.log"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def _pid(name: str) -> int | None:
    path = _pid_file(name)
    if not path.exists():
        return None
    pid = int(path.read_text().strip() or 0)
    return pid if pid and _alive(pid) else None


def _get(url: str, timeout: float = 2) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def _infra_endpoints() -> dict[str, str]:
    kafka, mongo = os.environ.get("KAFKA_BOOTSTRAP_SERVERS"), os.environ.get("MONGODB_URI")
    if kafka and mongo:
        print(f"using Kafka at {kafka} and the database at {mongo} (from the environment)")
        return {"KAFKA_BOOTSTRAP_SERVERS": kafka, "MONGODB_URI": mongo}
    print("starting Kafka and FerretDB (local processes, instance 'dev')…", flush=True)
    endpoints = infra.start(instance="dev")
    print(f"  Kafka {endpoints.kafka_version} at {endpoints.kafka_bootstrap}")
    print(f"  FerretDB {endpoints.ferretdb_version} at {endpoints.mongodb_uri}")
    return {"KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap,
            "MONGODB_URI": endpoints.mongodb_uri}


def up(timeout: float) -> int:
    common = _common_env(_infra_endpoints())
    per_service = _service_secret_env()
    (STATE / "run").mkdir(parents=True, exist_ok=True)
    (STATE / "logs").mkdir(parents=True, exist_ok=True)
    for proc in processes():
        if _pid(proc.name):
            print(f"{proc.name}: already running")
            continue
        env = {**os.environ, **common, **proc.env, **per_service.get(proc.name, {}),
               "CHORALE_HTTP_PORT": str(proc.port)}
        with _log_file(proc.name).open("ab") as log:
            child = subprocess.Popen(
                [sys.executable, "-m", proc.module], env=env, stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                cwd=ROOT,
            )
        _pid_file(proc.name).write_text(str(child.pid))
        print(f"{proc.name}: started (pid {child.pid})", flush=True)
    return wait_ready(timeout)


def wait_ready(timeout: float) -> int:
    deadline = time.monotonic() + timeout
    pending = {p.name: p for p in processes()}
    last: dict[str, str] = {}
    while pending and time.monotonic() < deadline:
        for name, proc in list(pending.items()):
            if not _pid(name):
                print(f"{name}: exited during start-up; last log lines:", file=sys.stderr)
                print(_tail(_log_file(name), 20), file=sys.stderr)
                return 1
            try:
                status, body = _get(f"http://127.0.0.1:{proc.port}{proc.probe}")
            except (OSError, ValueError) as exc:
                last[name] = str(exc)
                continue
            if status == 200:
                print(f"{name}: ready at http://127.0.0.1:{proc.port}", flush=True)
                del pending[name]
            else:
                last[name] = _waiting_for(proc, body)
        time.sleep(0.5)
    if pending:
        for name in pending:
            print(f"{name}: not ready after {timeout:.0f}s: {last.get(name, '?')}",
                  file=sys.stderr)
        return 1
    print("\nChorale is up:")
    print(f"  {'portal':<15} {PORTAL_URL}   <- open this in a browser")
    for proc in processes():
        if proc.name != "portal":
            print(f"  {proc.name:<15} http://127.0.0.1:{proc.port}"
                  + ("/docs" if proc.probe == "/ready" else ""))
    print("  operations      /metrics and the detailed /ready of each service on "
          "127.0.0.1:<port + 100> (CHORALE_ADMIN_PORT)")
    print(f"  logs            {STATE / 'logs'}")
    return 0


def _waiting_for(proc: Proc, public: dict) -> str:
    """What a service waits for: the detailed /ready of its operations listener (port + 100,
    the default of CHORALE_ADMIN_PORT), which the public /ready does not tell."""
    try:
        _, body = _get(f"http://127.0.0.1:{proc.port + 100}/ready")
    except (OSError, ValueError):
        return json.dumps(public)[:300]
    failing = {n: c.get("code") for n, c in body.get("checks", {}).items() if not c.get("ok")}
    return json.dumps(failing or body)[:300]


def down(keep_infra: bool) -> int:
    for proc in reversed(processes()):
        pid = _pid(proc.name)
        _pid_file(proc.name).unlink(missing_ok=True)
        if pid is None:
            continue
        os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.killpg(pid, signal.SIGKILL)
        print(f"{proc.name}: stopped")
    if not keep_infra:
        infra.stop("dev")
    return 0


def status() -> int:
    ok = True
    for proc in processes():
        pid = _pid(proc.name)
        state = "stopped"
        if pid:
            try:
                code, _ = _get(f"http://127.0.0.1:{proc.port}{proc.probe}")
                state = "ready" if code == 200 else f"not ready ({code})"
            except OSError:
                state = "starting"
        ok = ok and state == "ready"
        print(f"{proc.name:<15} {state:<16} pid={pid or '-'} port={proc.port}")
    return 0 if ok else 1


def _tail(path: Path, lines: int) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def logs() -> int:
    files = [str(_log_file(p.name)) for p in processes() if _log_file(p.name).exists()]
    if not files:
        print("no logs yet (run `make up`)")
        return 1
    return subprocess.call(["tail", "-n", "20", "-F", *files])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status", "logs"])
    parser.add_argument("--timeout", type=float, default=180)
    parser.add_argument("--keep-infra", action="store_true", help="down: leave Kafka/DB running")
    args = parser.parse_args()
    if args.command == "up":
        return up(args.timeout)
    if args.command == "down":
        return down(args.keep_infra)
    if args.command == "status":
        return status()
    return logs()


if __name__ == "__main__":
    raise SystemExit(main())
