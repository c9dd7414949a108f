"""What every router needs: the signed-in principal, the access rules, the acting Actor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Request

from chorale_runtime.auth import Principal
from chorale_runtime.http import correlation_id_of
from chorale_structures.entrypoints.access import Access
from chorale_structures.service_layer.context import Actor

PrincipalDependency = Callable[..., Awaitable[Principal]]


@dataclass(frozen=True)
class HttpContext:
    current: PrincipalDependency
    access: Access


def actor_of(request: Request, principal: Principal) -> Actor:
    return Actor(principal.subject, correlation_id_of(request), principal.is_operator)
