"""One running stack per module: every service as its own process, the journey played once;
the journey's assertions and the operability checks then look at the same system."""

from __future__ import annotations

import uuid

import pytest_asyncio

from chorale_cli.journey import run_journey
from chorale_cli.journey.stack import running_stack
from chorale_runtime.testing.plugin import Namespace


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def journey(infra, tmp_path_factory):
    namespace = Namespace("e" + uuid.uuid4().hex[:10])
    folder = tmp_path_factory.mktemp("stack")
    async with running_stack(infra, namespace, folder) as stack:
        narration: list[str] = []
        env = stack.journey_env(narration.append, 90)
        try:
            report = await run_journey(env)
        except Exception:
            for service in stack.processes:
                print(f"----- {service} (last lines)\n" + stack.logs(service)[-4000:])
            print("\n".join(narration))
            raise
        print("\n".join(narration))
        yield stack, report, namespace
