"""Bootstrapping the journey's operator with identity's own admin command, as an operator
would on a real installation."""

from __future__ import annotations

import asyncio
import os
import sys


def admin_command_creator(env: dict[str, str]):
    """An async `create_operator(email, password)` running `python -m chorale_identity.admin`
    with `env` (database of the identity service)."""

    async def create_operator(email: str, password: str) -> None:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "chorale_identity.admin", "create-operator",
            "--email", email, "--first-name", "Olivia", "--last-name", "Opératrice",
            "--password-stdin",
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, env={**os.environ, **env},
        )
        output, _ = await process.communicate(password.encode() + b"\n")
        if process.returncode != 0:
            raise RuntimeError(f"create-operator failed: {output.decode(errors='replace')}")

    return create_operator
