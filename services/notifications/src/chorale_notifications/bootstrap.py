"""Composition root of the notifications service."""

from __future__ import annotations

from fastapi import FastAPI

from chorale_contracts import Topic
from chorale_notifications.adapters.structure_directory import StructureDirectory
from chorale_notifications.entrypoints.subscriptions import structure_subscription
from chorale_notifications.settings import NotificationsSettings
from chorale_runtime.service import Runtime


def build_app(settings: NotificationsSettings, **runtime_options) -> FastAPI:
    runtime = Runtime(settings, produces=[Topic.NOTIFICATIONS], **runtime_options)
    directory = StructureDirectory(runtime.db)
    runtime.subscribe(structure_subscription(directory))
    return runtime.create_app(
        title="Chorale — Notifications",
        description="Courriels, « Mes messages » et suivi des envois.",
    )
