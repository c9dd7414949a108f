"""`chorale.notifications.v1`: the outcome of each (event, recipient) notification.
Key: the recipient's `userId`."""

from chorale_contracts.registry import EventPayload, event
from chorale_contracts.topics import Topic


class _NotificationEvent(EventPayload):
    topic = Topic.NOTIFICATIONS
    notificationId: str
    userId: str
    category: str
    subject: str
    sourceEventId: str


@event
class NotificationSent(_NotificationEvent):
    event_type = "notification.sent"
    channel: str = "EMAIL"


@event
class NotificationFailed(_NotificationEvent):
    event_type = "notification.failed"
    error: str
    attempts: int
