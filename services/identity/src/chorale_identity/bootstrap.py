"""Composition root of the identity service."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from chorale_contracts import Topic
from chorale_identity.adapters import (
    accounts,
    gestionnaires,
    invitations,
    rattachements,
    technical_accounts,
)
from chorale_identity.adapters.accounts import AccountRepository
from chorale_identity.adapters.documents import Notify
from chorale_identity.adapters.gestionnaires import GestionnaireRepository
from chorale_identity.adapters.invitations import InvitationRepository
from chorale_identity.adapters.keyring import KeyRingRepository
from chorale_identity.adapters.links import LinkRepository
from chorale_identity.adapters.rattachements import RattachementRepository
from chorale_identity.adapters.refresh_families import RefreshFamilyRepository
from chorale_identity.adapters.secret_box import SecretBox, secret_box_from_settings
from chorale_identity.adapters.sign_in_decoys import SignInDecoys
from chorale_identity.adapters.structures import StructureDirectory
from chorale_identity.adapters.technical_accounts import TechnicalAccountRepository
from chorale_identity.domain.clock import Clock, SystemClock
from chorale_identity.domain.passwords import PasswordHasher
from chorale_identity.entrypoints import (
    http_auth,
    http_internal,
    http_me,
    http_rattachements,
    http_structures,
    http_users,
)
from chorale_identity.entrypoints.deps import build_deps
from chorale_identity.entrypoints.early_refusal import EarlyRefusal
from chorale_identity.entrypoints.subscriptions import structures_subscription
from chorale_identity.entrypoints.token_check import OwnKeysVerifier
from chorale_identity.service_layer.access import GestionnairesOnly
from chorale_identity.service_layer.context import IdentityContext
from chorale_identity.service_layer.housekeeping import Housekeeping
from chorale_identity.service_layer.password_work import PasswordWork
from chorale_identity.service_layer.signing_keys import KeyRing
from chorale_identity.settings import IdentitySettings
from chorale_runtime.auth import TokenVerifier
from chorale_runtime.authz import Authorizer
from chorale_runtime.service import Runtime

OUTBOX_COLLECTIONS = [
    accounts.USERS,
    rattachements.COLLECTION,
    gestionnaires.COLLECTION,
    technical_accounts.COLLECTION,
    invitations.COLLECTION,
]
INDEXES = [
    *accounts.INDEXES,
    *rattachements.INDEXES,
    *gestionnaires.INDEXES,
    *technical_accounts.INDEXES,
    *invitations.INDEXES,
]


def key_ring(
    db: AsyncDatabase, settings: IdentitySettings, clock: Clock, box: SecretBox
) -> KeyRing:
    passphrase = settings.signing_key_passphrase
    rotation = settings.signing_key_rotation_days
    return KeyRing(
        KeyRingRepository(db, box, passphrase.get_secret_value() if passphrase else None),
        clock,
        publish_delay=timedelta(seconds=settings.signing_key_publish_seconds),
        retention=timedelta(seconds=settings.signing_key_retention_seconds),
        rotation_age=timedelta(days=rotation) if rotation else None,
        refresh_seconds=settings.signing_key_refresh_seconds,
    )


def build_context(
    db: AsyncDatabase,
    settings: IdentitySettings,
    *,
    notify: Notify | None = None,
    clock: Clock | None = None,
    hasher: PasswordHasher | None = None,
    create_key_file: bool = True,
) -> IdentityContext:
    """Wire the use cases to a database (the service, the admin command, tests, the bench)."""
    clock = clock or SystemClock()
    gps = GestionnaireRepository(db, notify)
    box = secret_box_from_settings(settings, create_key_file=create_key_file)
    return IdentityContext(
        settings=settings,
        clock=clock,
        hasher=hasher or PasswordHasher(settings.argon2_params),
        keys=key_ring(db, settings, clock, box),
        accounts=AccountRepository(db, box, notify),
        links=LinkRepository(db),
        refresh=RefreshFamilyRepository(db),
        rattachements=RattachementRepository(db, notify),
        gestionnaires=gps,
        technical=TechnicalAccountRepository(db, notify),
        structures=StructureDirectory(db),
        authorizer=Authorizer(GestionnairesOnly(gps)),
        password_work=PasswordWork(settings.argon2_slots, settings.argon2_max_wait_seconds),
        decoys=SignInDecoys(db),
        invitations=InvitationRepository(db, notify),
    )


def build_app(
    settings: IdentitySettings,
    *,
    clock: Clock | None = None,
    hasher: PasswordHasher | None = None,
    verifier: TokenVerifier | None = None,
    **runtime_options: Any,
) -> FastAPI:
    runtime = Runtime(
        settings,
        produces=[Topic.IDENTITY],
        outbox_collections=OUTBOX_COLLECTIONS,
        indexes=INDEXES,
        **runtime_options,
    )
    ctx = build_context(
        runtime.db,
        settings,
        notify=runtime.publish_soon,
        clock=clock,
        hasher=hasher,
    )
    # Grants from the runtime's read model of habilitation events; the GP from our own records.
    authorizer = runtime.enable_authorization(gestionnaire_principal=ctx.gestionnaires.user_of)
    ctx = replace(ctx, authorizer=authorizer)
    runtime.subscribe(structures_subscription(ctx))
    # Tokens presented to identity are checked with its own keys and clock; ``verifier`` (tests)
    # only sees tokens signed by keys identity does not hold.
    runtime.verifier = OwnKeysVerifier(ctx.keys, ctx.clock, fallback=verifier)
    runtime.add_background("signing-keys", ctx.keys.run)
    runtime.add_background("housekeeping", Housekeeping(ctx).run)
    # FerretDB: the lists by structure or user from memory (see adapters/rattachements.py)
    runtime.add_background("rattachements-memory", ctx.rattachements.load_memory)
    runtime.add_background("gestionnaires-memory", ctx.gestionnaires.load_memory)
    runtime.add_background("structures-memory", ctx.structures.load_memory)

    async def keys_ready() -> tuple[bool, str]:
        keyset = await ctx.keys.keyset()
        return True, f"signing key {keyset.current.kid}"

    runtime.readiness["signing_keys"] = keys_ready
    deps = build_deps(ctx, runtime.principal_dependency())
    app = runtime.create_app(
        title="Chorale — Identité",
        description="Comptes, connexion, rattachements, gestionnaires principaux, comptes "
        "techniques. Voir services/identity/docs/api.md.",
        routers=[
            module.build_router(deps)
            for module in (
                http_users, http_auth, http_me, http_rattachements, http_structures, http_internal
            )
        ],
    )
    app.add_middleware(EarlyRefusal, throttle=deps.throttle)
    app.state.identity = ctx
    return app
