"""Authorization decided locally in every service, from a read model of the habilitations
and gestionnaire events (DESIGN.md §6 "Habilitations"): no synchronous call per request, and a
revocation takes effect as soon as its event is consumed."""

from chorale_runtime.authz.authorizer import Authorizer
from chorale_runtime.authz.decision import AccessRequest, Decision, Grant, decide
from chorale_runtime.authz.read_model import AuthzReadModel, authz_subscription

__all__ = [
    "AccessRequest",
    "Authorizer",
    "AuthzReadModel",
    "Decision",
    "Grant",
    "authz_subscription",
    "decide",
]
