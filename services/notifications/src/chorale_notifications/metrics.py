"""Metrics of the notifications service (the runtime's own come on top)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

MAILS_SENT = Counter(
    "chorale_notifications_mails_sent_total", "Mails accepted by the SMTP server",
    ["service", "category"],
)
MAILS_FAILED = Counter(
    "chorale_notifications_mails_failed_total",
    "Mails given up on (parked as FAILED after the last attempt or a permanent refusal)",
    ["service", "category"],
)
SEND_ATTEMPTS = Counter(
    "chorale_notifications_send_attempts_total", "SMTP attempts by outcome",
    ["service", "outcome"],
)
DELIVERIES_PENDING = Gauge(
    "chorale_notifications_deliveries_pending", "Deliveries waiting for a (re)try",
    ["service"],
)
DELIVERIES_FAILED = Gauge(
    "chorale_notifications_deliveries_failed", "Deliveries parked as FAILED", ["service"],
)
MESSAGES_CREATED = Counter(
    "chorale_notifications_messages_created_total", "Messages put in users' inboxes or mailed",
    ["service", "category"],
)
