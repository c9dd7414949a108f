"""Topic names (DESIGN.md §2). A deployment-wide prefix lets tests and tenants share a broker."""

from enum import StrEnum


class Topic(StrEnum):
    STRUCTURES = "chorale.structures.v1"
    DIRECTORY = "chorale.directory.v1"
    IDENTITY = "chorale.identity.v1"
    HABILITATIONS = "chorale.habilitations.v1"
    FLOWS = "chorale.flows.v1"
    INVOICES = "chorale.invoices.v1"
    NOTIFICATIONS = "chorale.notifications.v1"
    INVOICE_STATUS = "chorale.invoice-status.v1"


# Topics whose consumers only need the latest record per key.
COMPACTED: frozenset[Topic] = frozenset({Topic.DIRECTORY})


def topic_name(topic: Topic | str, prefix: str = "") -> str:
    """The physical topic name for a logical topic under a deployment prefix."""
    return f"{prefix}{topic}"


def dlq_topic(physical_topic: str) -> str:
    """Where a consumer parks the events of `physical_topic` that it could not process."""
    return f"{physical_topic}.dlq"
