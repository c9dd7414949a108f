"""Identity's own Prometheus metrics (the runtime's HTTP/Kafka metrics come on top).

Sign-ins are counted by ``outcome`` (succeeded, failed, locked) and the precise ``reason`` of
``SignInReason``: the public answer is the same for every failure, the metrics are not.
"""

from __future__ import annotations

from prometheus_client import Counter

from chorale_identity.domain.sign_in import SignInOutcome, SignInReason

SIGN_INS = Counter(
    "chorale_identity_sign_ins_total",
    "Sign-in attempts of people by outcome (succeeded, failed, locked) and reason",
    ["service", "outcome", "reason"],
)
LOCKOUTS = Counter(
    "chorale_identity_lockouts_total",
    "Accounts locked for an hour after too many failed sign-ins",
    ["service"],
)
TOKENS_ISSUED = Counter(
    "chorale_identity_tokens_issued_total",
    "Access tokens issued, by grant (password, refresh, client_credentials)",
    ["service", "grant"],
)
TOKEN_REFUSALS = Counter(
    "chorale_identity_token_refusals_total",
    "Refresh or client-credential exchanges refused, by error code",
    ["service", "grant", "code"],
)
REGISTRATIONS = Counter(
    "chorale_identity_registrations_total",
    "Registration requests by outcome (created, existing_login)",
    ["service", "outcome"],
)

ARGON2_REFUSED = Counter(
    "chorale_identity_argon2_refused_total",
    "Requests answered 503 because every argon2id slot stayed busy",
    ["service"],
)

SERVICE = "identity"


def sign_in_outcome(outcome: SignInOutcome) -> str:
    if outcome.ok:
        return "succeeded"
    if outcome.locked_now or outcome.reason is SignInReason.ACCOUNT_LOCKED:
        return "locked"
    return "failed"


def record_sign_in(outcome: SignInOutcome) -> None:
    SIGN_INS.labels(SERVICE, sign_in_outcome(outcome), outcome.reason.value).inc()
    if outcome.locked_now:
        LOCKOUTS.labels(SERVICE).inc()
