"""Administration commands of the identity service, run against its database.

    python -m chorale_identity.admin create-operator --email ops@example.fr \\
        --first-name Alice --last-name Martin --password-stdin < password.txt
    python -m chorale_identity.admin rotate-signing-key
    python -m chorale_identity.admin list-signing-keys
    python -m chorale_identity.admin revoke-signing-key --kid <kid>
    python -m chorale_identity.admin new-service-secret

Configuration comes from the same environment as the service (``MONGODB_URI``,
``CHORALE_*``). Events (``user.registered``) are written to the outbox and published by the
running service's relay.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import secrets
import sys
import uuid
from typing import TextIO

from chorale_identity.adapters.secret_box import SecretsUnreadable
from chorale_identity.bootstrap import INDEXES, build_context
from chorale_identity.domain.errors import DomainError
from chorale_identity.entrypoints.http_internal import secret_digest
from chorale_identity.service_layer.events import Cause
from chorale_identity.service_layer.operators import Outcome, bootstrap_operator
from chorale_identity.service_layer.signing_keys import KeyRing, UnknownSigningKey
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
    commands.add_parser("list-signing-keys", help="clés de signature et leur rôle")
    revoke = commands.add_parser(
        "revoke-signing-key",
        help="retirer une clé tout de suite (compromise) ; une nouvelle clé signe si besoin",
    )
    revoke.add_argument("--kid", required=True, help="identifiant de la clé (kid)")
    commands.add_parser(
        "new-service-secret",
        help="secret de service pour notifications (liens des courriels) et son empreinte",
    )
    return p


async def run(args: argparse.Namespace, settings: IdentitySettings, stdin: TextIO) -> int:
    client = connect(settings.mongodb_uri.get_secret_value(), settings.client_id + "-admin")
    try:
        db = client[settings.database_name]
        await ensure_indexes(db, INDEXES)
        ctx = build_context(db, settings, create_key_file=False)
        if args.command in SIGNING_KEY_COMMANDS:
            return await SIGNING_KEY_COMMANDS[args.command](args, settings, ctx.keys)
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


async def list_signing_keys(_args: argparse.Namespace, _s: IdentitySettings, keys: KeyRing) -> int:
    keyset = await keys.keyset()
    print(f"{keyset.current.kid}\tsigne")
    for key in keyset.previous:
        print(f"{key.kid}\tvérifie seulement")
    return 0


async def revoke_signing_key(
    args: argparse.Namespace, settings: IdentitySettings, keys: KeyRing
) -> int:
    try:
        new_kid = await keys.revoke(args.kid)
    except UnknownSigningKey:
        print(f"Refusé (SIGNING_KEY_UNKNOWN) : aucune clé {args.kid}.", file=sys.stderr)
        return 2
    bound = settings.signing_key_refresh_seconds + settings.jwks_max_age_seconds
    print(
        f"Clé {args.kid} révoquée : les jetons qu'elle a signés seront refusés par chaque "
        f"service d'ici {bound:g} s au plus."
    )
    if new_kid:
        print(f"Nouvelle clé de signature : {new_kid} (signe dès maintenant).")
    return 0


SIGNING_KEY_COMMANDS = {
    "list-signing-keys": list_signing_keys,
    "revoke-signing-key": revoke_signing_key,
}


def new_service_secret() -> int:
    secret = secrets.token_urlsafe(32)
    print(f"CHORALE_MAIL_LINKS_CLIENT_SECRET={secret}    # notifications only")
    print(f"CHORALE_MAIL_LINKS_CLIENT_SECRET_SHA256={secret_digest(secret)}    # identity")
    return 0


def main(argv: list[str] | None = None, stdin: TextIO | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "new-service-secret":  # needs neither the database nor settings
        return new_service_secret()
    settings = load_settings(IdentitySettings)
    configure(settings.service_name, "WARNING", settings.log_format, stream=sys.stderr)
    try:
        return asyncio.run(run(args, settings, stdin or sys.stdin))
    except SecretsUnreadable as error:
        print(f"Refusé (SECRETS_UNREADABLE) : {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
