"""The webinar's journey (issue 8) against every service as its own process, over real HTTP,
the real broker and the real database — the same journey `make demo` narrates."""

from __future__ import annotations

import pytest

from chorale_cli.journey import JourneyEnv, Mailbox, run_journey
from chorale_cli.journey.operators import admin_command_creator
from chorale_cli.journey.stack import running_stack

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


async def test_the_webinar_journey(infra, namespace, tmp_path):
    async with running_stack(infra, namespace, tmp_path) as stack:
        narration: list[str] = []
        env = JourneyEnv(
            structures=stack.url("structures"), identity=stack.url("identity"),
            habilitations=stack.url("habilitations"), intake=stack.url("invoice-intake"),
            notifications=stack.url("notifications"), edi_root=stack.edi_root,
            mailbox=Mailbox(stack.mail_dir),
            create_operator=admin_command_creator(stack.envs["identity"]),
            narrate=narration.append, timeout=90,
        )
        try:
            report = await run_journey(env)
        except Exception:
            for service in stack.processes:
                print(f"----- {service} (last lines)\n" + stack.logs(service)[-4000:])
            print("\n".join(narration))
            raise

    print("\n".join(narration))
    statuses = {f.label: (f.statut, f.codes) for f in report.flows}
    assert statuses == {
        "valide.xml": ("IN_INTEGRE", []),
        "sans-code-service.xml": ("IN_REJETE", ["SERVICE_CODE_REQUIRED"]),
        "service-expire.xml": ("IN_REJETE", ["SERVICE_INACTIVE"]),
    }
    to = {role: [m.subject for m in report.mails if email in m.to]
          for role, email in report.people.items()}
    assert to["user"] and to["supplier"] and to["gp"]
    assert len(report.steps) >= 25
    assert all(f.numero.startswith("FLX") for f in report.flows)
