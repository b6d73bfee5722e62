"""Calling or messaging the customer from the driver app, through a provider interface.

The provider is named by the `WAYPOINT_CONTACT_PROVIDER` setting (a dotted path to a class; read
at call time, never at import). The default, `ConsoleContactProvider`, logs the request and hands
the driver the customer's own number (`tel:` / `sms:`), which suits development and small fleets.
A production provider (a telephony service's number masking) places the call or sends the message
itself and returns a masked proxy number in `connect_to`, so neither side sees the other's number.
"""

import logging
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)
DEFAULT_PROVIDER = "dispatch.execution.contact.ConsoleContactProvider"
CHANNELS = ("call", "sms")


@dataclass(frozen=True)
class ContactRequest:
    channel: str  # "call" or "sms"
    to_number: str
    message: str
    driver_name: str
    order_reference: str


@dataclass(frozen=True)
class ContactResult:
    # "ready": the phone connects itself (connect_to); "sent"/"connecting": the provider acted.
    status: str
    connect_to: str


class ContactProvider(Protocol):
    def contact(self, request: ContactRequest) -> ContactResult: ...


class ConsoleContactProvider:
    """Logs the request; the phone dials or texts the customer's number itself."""

    def contact(self, request: ContactRequest) -> ContactResult:
        logger.info(
            "contact %s for order %s by %s: %s",
            request.channel,
            request.order_reference,
            request.driver_name,
            request.message or "(no message)",
        )
        scheme = "tel" if request.channel == "call" else "sms"
        return ContactResult(status="ready", connect_to=f"{scheme}:{request.to_number}")


def contact_provider() -> ContactProvider:
    return import_string(getattr(settings, "WAYPOINT_CONTACT_PROVIDER", "") or DEFAULT_PROVIDER)()
