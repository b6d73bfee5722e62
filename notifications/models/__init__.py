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

__all__ = [
    "DEFAULT_RULES",
    "MESSAGE_TRANSITIONS",
    "Channel",
    "Message",
    "MessageKind",
    "MessageStatus",
    "MessageTemplate",
    "NotificationRule",
    "NotificationSettings",
    "OptOut",
]
