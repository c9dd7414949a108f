"""At start: every secret identity keeps (signing keys, TOTP seeds) readable with the
configured secrets key, and sealed with the current one.

A store that cannot be opened (wrong or missing key) stops the start with one line saying so,
rather than a service that answers and fails at the first sign-in or token."""

from __future__ import annotations

import asyncio
import sys

from chorale_identity.adapters.secret_box import SecretsUnreadable
from chorale_identity.service_layer.context import IdentityContext
from chorale_identity.settings import IdentitySettings
from chorale_runtime.logging import get_logger
from chorale_runtime.mongo import connect

log = get_logger(__name__)


async def seal_stored_secrets(ctx: IdentityContext) -> None:
    """Create the key ring on a first start; re-seal what is clear or sealed with an older
    key; raise ``SecretsUnreadable`` if anything stored does not open."""
    await ctx.keys.load()
    keys = await ctx.keys.reseal()
    seeds = await ctx.accounts.reseal_totp_secrets()
    if keys or seeds:
        log.warning("stored_secrets_resealed", signing_keys=keys, totp_secrets=seeds)


async def _check(settings: IdentitySettings) -> None:
    from chorale_identity.bootstrap import build_context  # the composition root imports us

    client = connect(settings.mongodb_uri.get_secret_value(), settings.client_id + "-start")
    try:
        await seal_stored_secrets(build_context(client[settings.database_name], settings))
    finally:
        await client.close()


def check_or_exit(settings: IdentitySettings) -> None:
    try:
        asyncio.run(_check(settings))
    except (SecretsUnreadable, ValueError, RuntimeError) as error:
        # ValueError/RuntimeError: a PEM that does not decode, a missing legacy passphrase.
        print(f"chorale-identity: cannot read the stored secrets: {error}", file=sys.stderr)
        raise SystemExit(2) from None
