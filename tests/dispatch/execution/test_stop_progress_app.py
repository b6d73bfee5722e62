"""Stops follow orders moved outside the app, and never twice for what the app already moved."""

import datetime as dt

import pytest

from common.events import ORDER_FAILED
from dispatch.execution.services import stops as execution
from dispatch.models import Stop, StopEvent
from dispatch.planning.services.live import stop_progress
from orders.services import order_transition
from tests.clock import START
from tests.factories.fleet import StopFactory

pytestmark = pytest.mark.django_db
AT = START + dt.timedelta(minutes=30)


def test_an_order_delivered_through_the_app_moves_its_stop_once(
    driver_actor, driver, make_stop, django_capture_on_commit_callbacks
):
    stop = make_stop()

    with django_capture_on_commit_callbacks(execute=True):
        execution.stop_arrive(actor=driver_actor, stop=stop, at=AT, driver=driver)
    with django_capture_on_commit_callbacks(execute=True):
        execution.stop_complete(actor=driver_actor, stop=stop, at=AT, driver=driver)

    moves = list(StopEvent.objects.filter(stop=stop).values_list("from_status", "to_status", "actor"))
    assert moves == [("planned", "arrived", "user:acme-driver"), ("arrived", "done", "user:acme-driver")]


def test_an_order_moved_through_the_order_api_moves_its_stop_with_the_times(
    dispatcher_actor, make_stop, django_capture_on_commit_callbacks
):
    stop = make_stop(
        status="en_route",
    )
    order = order_transition(actor=dispatcher_actor, order=stop.order, to_status="out_for_delivery")

    with django_capture_on_commit_callbacks(execute=True):
        order = order_transition(actor=dispatcher_actor, order=order, to_status="arrived")

    stop.refresh_from_db()
    assert (stop.status, stop.arrival_source) == ("arrived", "dispatcher")
    assert stop.arrived_at >= order.events.get(to_status="arrived").at


def test_a_late_failed_event_leaves_the_stop_of_a_re_planned_order_alone(driver_actor, driver, make_stop, route):
    stop = make_stop()
    execution.stop_fail(actor=driver_actor, stop=stop, at=AT, reason="customer_absent", driver=driver)
    # The failed-delivery policy re-planned the order onto a new stop before the event reached dispatch.
    order = order_transition(actor=None, order=Stop.objects.get(pk=stop.pk).order, to_status="rescheduled")
    order = order_transition(actor=None, order=order, to_status="planned")
    again = StopFactory(route=route, order=order, sequence=9)

    changed = stop_progress(order_id=order.pk, event=ORDER_FAILED)

    again.refresh_from_db()
    assert (changed, again.status) == (0, "planned")
