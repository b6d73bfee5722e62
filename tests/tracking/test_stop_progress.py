"""The driver's progress on an order moves its stop, so ETAs and privacy follow the road."""

import pytest

from orders.services import order_transition
from tracking.selectors.itinerary import next_stop

pytestmark = pytest.mark.django_db


def move(order, status, capture):
    with capture(execute=True):
        order_transition(actor=None, order=order, to_status=status)


def test_arrival_starts_the_stop_and_delivery_finishes_it(route, driver, django_capture_on_commit_callbacks):
    first, second = route.stops.order_by("sequence")

    move(first.order, "out_for_delivery", django_capture_on_commit_callbacks)
    move(first.order, "arrived", django_capture_on_commit_callbacks)
    first.refresh_from_db()
    assert (first.status, next_stop(driver)) == ("arrived", first)

    move(first.order, "delivered", django_capture_on_commit_callbacks)
    first.refresh_from_db()
    assert (first.status, next_stop(driver)) == ("done", second)


def test_a_failed_attempt_also_ends_the_stop(route, driver, django_capture_on_commit_callbacks):
    first = route.stops.order_by("sequence").first()
    for status in ("out_for_delivery", "arrived", "failed"):
        move(first.order, status, django_capture_on_commit_callbacks)

    first.refresh_from_db()
    assert first.status == "failed"
