from notifications.models.webhooks import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

__all__ = ["DeliveryStatus", "WebhookAttempt", "WebhookDelivery", "WebhookEndpoint", "WebhookEvent"]
