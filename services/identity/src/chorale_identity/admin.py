"""Administration commands of the identity service, run against its database.

    python -m chorale_identity.admin create-operator --email ops@example.fr \\
        --first-name Alice --last-name Martin --password-stdin < password.txt
    python -m chorale_identity.admin rotate-signing-key

Configuration comes from the same environment as the service (``MONGODB_URI``,
``CHORALE_*``). Events (``user.registered``) are written to the outbox and published by the
running service's relay.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import uuid
from typing import TextIO

from chorale_identity.bootstrap import INDEXES, build_context
from chorale_identity.domain.errors import DomainError
from chorale_identity.service_layer.events import Cause
from chorale_identity.service_layer.operators import Outcome, bootstrap_operator
from chorale_identity.settings import IdentitySettings
from chorale_runtime.logging import configure
from chorale_runtime.mongo import connect, ensure_indexes
from chorale_runtime.settings import load_settings

MESSAGES = {
    Outcome.CREATED: "Opérateur créé : {email} (id {id}).",
    Outcome.ALREADY_OPERATOR: "Opérateur déjà existant : {email} (id {id}) ; rien n'a changé, "
    "mot de passe compris.",
    Outcome.PROMOTED: "Compte existant promu opérateur : {email} (id {id}).",
    Outcome.NOT_AN_OPERATOR: "Un compte utilisateur existe déjà pour {email} (id {id}) ; il n'est "
    "pas opérateur. Relancez avec --promote pour lui donner ce rôle.",
}


def read_password(stdin: TextIO) -> str:
    """From a pipe: the first line. From a terminal: asked without echo."""
    if stdin.isatty():
        return getpass.getpass("Mot de passe : ")
    return stdin.readline().rstrip("\r\n")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m chorale_identity.admin",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = p.add_subparsers(dest="command", required=True)
    op = commands.add_parser("create-operator", help="créer un opérateur (back-office)")
    op.add_argument("--email", required=True)
    op.add_argument("--first-name", required=True)
    op.add_argument("--last-name", required=True)
    op.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="lire le mot de passe sur l'entrée standard (jamais en argument)",
    )
    op.add_argument(
        "--promote", action="store_true", help="donner le rôle d'opérateur à un compte existant"
    )
    commands.add_parser("rotate-signing-key", help="nouvelle clé de signature des jetons")
    return p


async def run(args: argparse.Namespace, settings: IdentitySettings, stdin: TextIO) -> int:
    client = connect(settings.mongodb_uri.get_secret_value(), settings.client_id + "-admin")
    try:
        db = client[settings.database_name]
        await ensure_indexes(db, INDEXES)
        ctx = build_context(db, settings)
        if args.command == "rotate-signing-key":
            kid = await ctx.keys.rotate()
            print(
                f"Nouvelle clé {kid} : publiée maintenant, elle signera dans "
                f"{settings.signing_key_publish_seconds} s."
            )
            return 0
        password = read_password(stdin)
        try:
            result = await bootstrap_operator(
                ctx,
                email=args.email,
                password=password,
                prenom=args.first_name,
                nom=args.last_name,
                promote=args.promote,
                cause=Cause(f"admin-{uuid.uuid4()}"),
            )
        except DomainError as error:
            print(f"Refusé ({error.code}) : {error.message}", file=sys.stderr)
            return 2
        account = result.account
        print(MESSAGES[result.outcome].format(email=account.login_email, id=account.id))
        return 1 if result.outcome is Outcome.NOT_AN_OPERATOR else 0
    finally:
        await client.close()


def main(argv: list[str] | None = None, stdin: TextIO | None = None) -> int:
    args = parser().parse_args(argv)
    settings = load_settings(IdentitySettings)
    configure(settings.service_name, "WARNING", settings.log_format, stream=sys.stderr)
    return asyncio.run(run(args, settings, stdin or sys.stdin))


if __name__ == "__main__":
    raise SystemExit(main())
