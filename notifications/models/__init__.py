from notifications.models.messages import (
    DEFAULT_RULES,
    MESSAGE_TRANSITIONS,
    Channel,
    Message,
    MessageKind,
    MessageStatus,
    MessageTemplate,
    NotificationRule,
    NotificationSettings,
    OptOut,
)
from notifications.models.webhooks import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEtaAnnouncement,
    WebhookEvent,
)

__all__ = [
    "DEFAULT_RULES",
    "MESSAGE_TRANSITIONS",
    "Channel",
    "DeliveryStatus",
    "Message",
    "MessageKind",
    "MessageStatus",
    "MessageTemplate",
    "NotificationRule",
    "NotificationSettings",
    "OptOut",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEtaAnnouncement",
    "WebhookEvent",
]
