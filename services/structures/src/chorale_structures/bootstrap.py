"""Composition root of the structures service."""

from __future__ import annotations

from fastapi import FastAPI

from chorale_contracts import Topic
from chorale_runtime.service import Runtime
from chorale_structures.adapters.structure_repository import COLLECTION, StructureRepository
from chorale_structures.entrypoints.http_api import build_router
from chorale_structures.settings import StructuresSettings


def build_app(settings: StructuresSettings, **runtime_options) -> FastAPI:
    runtime = Runtime(
        settings,
        produces=[Topic.STRUCTURES, Topic.DIRECTORY],
        outbox_collections=[COLLECTION],
        **runtime_options,
    )
    repo = StructureRepository(runtime.db, notify=runtime.publish_soon)
    return runtime.create_app(
        title="Chorale — Structures",
        description="Structures, services, paramètres, coordonnées bancaires, annuaire.",
        routers=[build_router(repo)],
    )
