"""Reaching the customer of a stop through the configured contact provider."""

from accounts.tenancy import Actor
from dispatch.execution.contact import ContactRequest, ContactResult, contact_provider
from dispatch.execution.errors import ContactUnavailable
from dispatch.models import STOP_OPEN, Stop


def stop_customer_contact(*, actor: Actor, stop: Stop, channel: str, message: str = "") -> ContactResult:
    """Call or message the customer while the stop is still to serve (its number stays with the provider)."""
    if stop.status not in STOP_OPEN:
        raise ContactUnavailable("This stop is over; the customer can no longer be contacted from the app.")
    if not stop.order.customer_phone:
        raise ContactUnavailable("The order has no phone number for the customer.")
    driver_name = stop.route.driver.name if stop.route.driver else actor.label
    return contact_provider().contact(
        ContactRequest(
            channel=channel,
            to_number=stop.order.customer_phone,
            message=message,
            driver_name=driver_name,
            order_reference=stop.order.merchant_reference,
        )
    )
