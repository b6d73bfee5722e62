"""Customer messages: a driver's dispatched route of today whose orders' customers have an email
address and a phone, and helpers to read what went out."""

import pytest
from django.core import mail

from notifications.models import Message
from tests.clock import TODAY, at
from tests.factories.fleet import OrderFactory, StopFactory
from tests.notifications.webhooks_receiver import Receiver

EMAIL = "aino@example.fi"
PHONE = "+358 40 123 4567"


@pytest.fixture(autouse=True)
def _console_sms(settings):
    settings.WAYPOINT_SMS_PROVIDER = "console"
    settings.WAYPOINT_PUBLIC_URL = "https://waypoint.example"


@pytest.fixture
def make_stop(hub, route):
    """`make_stop(**order_fields)`: the next stop of `route` (the fixture's by default), its order
    dispatched (or `status_order`) for today, with contacts."""

    def make(*, status="planned", route=route, status_order="dispatched", **order_fields):
        order_fields.setdefault("customer_email", EMAIL)
        order_fields.setdefault("customer_phone", PHONE)
        order_fields.setdefault("delivery_date", TODAY)
        order = OrderFactory(
            hub=hub,
            status=status_order,
            window_start=at(TODAY, 10),
            window_end=at(TODAY, 12),
            time_windows=[{"start": at(TODAY, 10).isoformat(), "end": at(TODAY, 12).isoformat()}],
            **order_fields,
        )
        sequence = route.stops.count() + 1
        return StopFactory(
            route=route,
            order=order,
            sequence=sequence,
            status=status,
            planned_arrival=at(TODAY, 9 + sequence),
            planned_departure=at(TODAY, 9 + sequence, 5),
        )

    return make


def sent(kind: str | None = None) -> list[tuple[str, str, str]]:
    """(kind, channel, status) of every message, oldest first."""
    messages = Message.objects.order_by("pk")
    if kind:
        messages = messages.filter(kind=kind)
    return list(messages.values_list("kind", "channel", "status"))


def emails_to(address: str) -> list:
    return [email for email in mail.outbox if address in email.to]


@pytest.fixture
def receiver():
    """A merchant's receiver on loopback, stopped after the test."""
    started = Receiver().start()
    yield started
    started.stop()
