from django.urls import reverse

from notifications.services.rendering import public_url
from orders.models import Order


def order_context(order: Order) -> dict:
    """What every message may say about its order (docs/notifications.md lists the variables)."""
    tracking_url = public_url(reverse("tracking-page", args=[order.tracking_token]))
    return {
        "timezone": order.organization.timezone,
        "organization_name": order.organization.name,
        "customer_name": order.customer_name,
        "order_reference": order.merchant_reference,
        "address": order.address_text,
        "delivery_date": order.delivery_date,
        "window_start": order.window_start,
        "window_end": order.window_end,
        "tracking_url": tracking_url,
    }
