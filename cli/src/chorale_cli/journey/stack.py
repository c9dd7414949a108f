"""For end-to-end tests: every Chorale service as its own process, in one test namespace,
on free ports, with a real SMTP server (aiosmtpd) that keeps the mails as files."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from chorale_cli.journey.env import JourneyEnv, Mailbox
from chorale_cli.journey.operators import admin_command_creator
from chorale_cli.mailcatcher import build
from chorale_cli.services import KEY_ISSUER, in_start_order, jwks_url
from chorale_runtime.testing.infra import Endpoints
from chorale_runtime.testing.plugin import Namespace, service_env
from chorale_runtime.testing.servers import ServiceProcess, free_port, wait_ready

# Every service of the registry by module; those not `end_to_end` (the web portal) only for
# the tests that ask for them (`running_stack(portal=True)`).
SERVICES = {s.name: s.module for s in in_start_order() if s.end_to_end}
PORTAL = {s.name: s.module for s in in_start_order() if not s.end_to_end}


@dataclass
class RunningStack:
    folder: Path
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    envs: dict[str, dict[str, str]] = field(default_factory=dict)
    smtp_port: int = 0
    smtp_handler: Any = None
    _smtp: Controller | None = None

    def start_smtp(self) -> None:
        """(Again, after ``stop_smtp``: an outage's end) the SMTP server, same port and store."""
        if self._smtp is None:
            self._smtp = Controller(self.smtp_handler, hostname="127.0.0.1", port=self.smtp_port)
            self._smtp.start()

    def stop_smtp(self) -> None:
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None

    def url(self, service: str) -> str:
        return self.processes[service].base_url

    @property
    def edi_root(self) -> Path:
        return self.folder / "edi"

    @property
    def mail_dir(self) -> Path:
        return self.folder / "mail"

    def logs(self, service: str) -> str:
        return self.processes[service].logs()

    def journey_env(self, narrate: Callable[[str], None], timeout: float,
                    run_id: str = "") -> JourneyEnv:
        """The webinar journey's view of this stack: its services, EDI root, mailbox and the
        operator-creating command."""
        return JourneyEnv(
            structures=self.url("structures"), identity=self.url("identity"),
            habilitations=self.url("habilitations"), intake=self.url("invoice-intake"),
            notifications=self.url("notifications"), edi_root=self.edi_root,
            invoices=self.url("invoices"), mailbox=Mailbox(self.mail_dir),
            create_operator=admin_command_creator(self.envs["identity"]),
            narrate=narrate, timeout=timeout, run_id=run_id)

    async def restart(self, service: str, ready_timeout: float = 120) -> None:
        """Start `service` again (after it was stopped or killed), same port and environment."""
        old = self.processes[service]
        env = {**self.envs[service], "CHORALE_ADMIN_PORT": old.admin_url.rpartition(":")[2]}
        self.processes[service] = ServiceProcess(old.module, env, old.port, old.log_path).start()
        await wait_ready(old.base_url, ready_timeout)


def _envs(infra: Endpoints, namespace: Namespace, folder: Path, ports: dict[str, int],
          smtp_port: int, services: dict[str, str], shared_env: dict[str, str]
          ) -> dict[str, dict[str, str]]:
    identity = f"http://127.0.0.1:{ports[KEY_ISSUER]}"
    portal = f"http://127.0.0.1:{ports['portal']}" if "portal" in ports else None
    mail_links_secret = secrets.token_urlsafe(32)  # notifications → identity (mail links)
    shared = {
        "CHORALE_JWKS_URL": jwks_url(identity),
        "CHORALE_LOG_LEVEL": "INFO",
        **shared_env,
    }
    extra = {
        # Mail links open the portal's pages when it runs; its browser test asks for a reset
        # link within the minute of the verification mail (one mail a minute otherwise).
        # The portal passes each browser's address on (X-Forwarded-For) from loopback.
        "identity": {"CHORALE_PUBLIC_BASE_URL": portal or identity,
                     "CHORALE_TRUSTED_PROXIES": "127.0.0.1,::1",
                     "CHORALE_SECRETS_KEY_FILE": str(folder / "identity" / "secrets.key"),
                     "CHORALE_MAIL_LINKS_CLIENT_SECRET_SHA256":
                         hashlib.sha256(mail_links_secret.encode()).hexdigest(),
                     **({"CHORALE_LINK_RESEND_COOLDOWN_SECONDS": "0"} if portal else {})},
        "invoice-intake": {"CHORALE_EDI_ROOT": str(folder / "edi"),
                           "CHORALE_ARCHIVE_DIR": str(folder / "archive"),
                           "CHORALE_EDI_SCAN_INTERVAL": "0.2"},
        "notifications": {"CHORALE_SMTP_HOST": "127.0.0.1", "CHORALE_SMTP_PORT": str(smtp_port),
                          "CHORALE_HABILITATIONS_DIGEST_SECONDS": "1",
                          "CHORALE_IDENTITY_URL": identity,
                          "CHORALE_MAIL_LINKS_CLIENT_SECRET": mail_links_secret,
                          "CHORALE_NOTICE_DIGEST_SECONDS": "2",
                          "CHORALE_DISPATCH_INTERVAL": "0.2",
                          **({"CHORALE_PORTAL_URL": portal} if portal else {})},
        "portal": {"CHORALE_IDENTITY_URL": identity,
                   "CHORALE_STRUCTURES_URL": f"http://127.0.0.1:{ports['structures']}",
                   "CHORALE_HABILITATIONS_URL": f"http://127.0.0.1:{ports['habilitations']}",
                   "CHORALE_INTAKE_URL": f"http://127.0.0.1:{ports['invoice-intake']}",
                   "CHORALE_NOTIFICATIONS_URL": f"http://127.0.0.1:{ports['notifications']}",
                   "CHORALE_PARTNER_INTAKE_URL": f"http://127.0.0.1:{ports['invoice-intake']}",
                   "CHORALE_PARTNER_TOKEN_URL": f"{identity}/v1/auth/token",
                   "CHORALE_PARTNER_EDI_ROOT": str(folder / "edi"),
                   "CHORALE_INVOICES_URL": f"http://127.0.0.1:{ports['invoices']}"},
        "invoices": {"CHORALE_EDI_ROOT": str(folder / "edi"),
                     "CHORALE_INTAKE_URL": f"http://127.0.0.1:{ports['invoice-intake']}"},
    }
    return {
        name: service_env(infra, namespace, name, **shared, **extra.get(name, {}))
        for name in services
    }


@contextlib.asynccontextmanager
async def running_stack(
    infra: Endpoints, namespace: Namespace, folder: Path, ready_timeout: float = 180,
    portal: bool = False, *, only: Sequence[str] | None = None,
    shared_env: dict[str, str] | None = None,
) -> AsyncIterator[RunningStack]:
    """``portal``: the web portal too; ``only``: start these services (identity always);
    ``shared_env``: settings for all."""
    services = {**SERVICES, **PORTAL} if portal else SERVICES
    folder.mkdir(parents=True, exist_ok=True)
    _, store = build(folder / "mail")
    stack = RunningStack(folder, smtp_port=free_port(), smtp_handler=store)
    stack.start_smtp()
    smtp_port = stack.smtp_port
    ports = {name: free_port() for name in services}
    stack.envs = _envs(infra, namespace, folder, ports, smtp_port, services, shared_env or {})
    wanted = set(only or services) | {KEY_ISSUER}
    try:
        for name, module in services.items():
            if name not in wanted:
                continue
            stack.processes[name] = ServiceProcess(
                module, stack.envs[name], ports[name], folder / "logs" / f"{name}.log"
            ).start()
        await asyncio.gather(*[
            wait_ready(p.base_url, ready_timeout) for p in stack.processes.values()
        ])
        yield stack
    finally:
        for process in stack.processes.values():
            process.terminate()
        stack.stop_smtp()
