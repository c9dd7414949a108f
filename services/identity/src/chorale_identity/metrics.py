"""Identity's own Prometheus metrics (the runtime's HTTP/Kafka metrics come on top).

No label of a metric fed by a public endpoint may tell whether an address has an account:
whoever reads ``/metrics`` before and after their own attempt would learn it. So every
sign-in failure before the password is proven (unknown address, wrong password, locked,
unverified or deactivated account) is counted as one ``reason="INVALID_CREDENTIALS"``; only
failures after the right password (``TOTP_REQUIRED``, ``TOTP_INVALID``) keep their reason.
Registrations have one outcome, ``accepted``. Lockouts (which only an existing account can
reach) are in the logs (``sign_in_refused`` with ``locked_now``), not in the metrics.
"""

from __future__ import annotations

from prometheus_client import Counter

from chorale_identity.domain.sign_in import SignInOutcome, SignInReason

SIGN_INS = Counter(
    "chorale_identity_sign_ins_total",
    "Sign-in attempts of people by outcome (succeeded, failed) and non-revealing reason",
    ["service", "outcome", "reason"],
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
    "Registration requests accepted (new or existing address alike)",
    ["service", "outcome"],
)

ARGON2_REFUSED = Counter(
    "chorale_identity_argon2_refused_total",
    "Requests answered 503 because every argon2id slot stayed busy",
    ["service"],
)

RATE_LIMITED = Counter(
    "chorale_identity_rate_limited_total",
    "Requests answered 429 RATE_LIMITED, by limit (sign_in_per_address, …)",
    ["service", "limit"],
)

SERVICE = "identity"


# Reasons that can only happen once the right password was given: no address to enumerate.
_AFTER_PASSWORD = frozenset(
    {SignInReason.OK, SignInReason.TOTP_REQUIRED, SignInReason.TOTP_INVALID}
)
FOLDED_REASON = "INVALID_CREDENTIALS"


def public_labels(outcome: SignInOutcome) -> tuple[str, str]:
    """(outcome, reason) as counted: the same for an unknown and a known address."""
    reason = outcome.reason.value if outcome.reason in _AFTER_PASSWORD else FOLDED_REASON
    return ("succeeded" if outcome.ok else "failed"), reason


def record_sign_in(outcome: SignInOutcome) -> None:
    SIGN_INS.labels(SERVICE, *public_labels(outcome)).inc()


def record_registration() -> None:
    REGISTRATIONS.labels(SERVICE, "accepted").inc()
