"""Composition root of the habilitations service."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from chorale_contracts import Topic
from chorale_habilitations.adapters.directory_store import DirectoryStore
from chorale_habilitations.adapters.grant_store import COLLECTION, INDEXES, GrantStore
from chorale_habilitations.adapters.membership_store import MembershipStore
from chorale_habilitations.domain.errors import HabilitationError
from chorale_habilitations.entrypoints.http_api import build_router
from chorale_habilitations.entrypoints.subscriptions import (
    directory_subscription,
    identity_subscription,
)
from chorale_habilitations.service_layer.context import Context
from chorale_habilitations.service_layer.identity_events import IdentityEvents
from chorale_habilitations.service_layer.writer import GrantWriter
from chorale_habilitations.settings import HabilitationsSettings
from chorale_runtime.service import Runtime

__all__ = ["HabilitationError", "build_app"]


def build_app(settings: HabilitationsSettings, **runtime_options: Any) -> FastAPI:
    runtime = Runtime(
        settings,
        produces=[Topic.HABILITATIONS],
        outbox_collections=[COLLECTION],
        indexes=INDEXES,
        **runtime_options,
    )
    # Decisions here read the same local read model as in every other service, fed by our own
    # topic: what /v1/decisions answers is what the other services enforce.
    authorizer = runtime.enable_authorization()
    grants = GrantStore(runtime.db, notify=runtime.publish_soon)
    memberships = MembershipStore(runtime.db)
    directory = DirectoryStore(runtime.db)
    writer = GrantWriter(grants, settings.service_name)
    ctx = Context(grants, writer, memberships, directory, authorizer)
    runtime.subscribe(identity_subscription(IdentityEvents(writer, memberships)))
    runtime.subscribe(directory_subscription(directory))
    return runtime.create_app(
        title="Chorale — Habilitations",
        description="Applications, profils, habilitations des utilisateurs, décisions d'accès.",
        routers=[build_router(ctx, runtime.principal_dependency())],
    )
