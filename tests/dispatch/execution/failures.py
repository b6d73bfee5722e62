"""Shared set-up for the failed-delivery policy's tests (here and in tracking).

A dispatched plan for `DAY` with one route of three stops (driver on shift 08:00–16:00, a van of
thirty parcels, which also gives the slots room), "now" 10:00 that day; `fail` moves a stop's
order to failed and the stop to failed or skipped the way the driver app would, and runs the
reactions.
"""

import pytest

from dispatch.models import FailureReason, Route, Stop
from dispatch.planning.services.transitions import stop_transition
from dispatch.slots import route_fit
from orders.models import Order
from orders.services import order_transition
from tests.clock import at
from tests.factories.fleet import (
    DAY,
    DriverFactory,
    OrderFactory,
    PlanFactory,
    RouteFactory,
    StopFactory,
    VehicleFactory,
)

NOW = at(DAY, 10)


@pytest.fixture
def now(time_machine):
    route_fit.cache_clear()
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def route(hub, now) -> Route:
    plan = PlanFactory(hub=hub, status="dispatched")
    route = RouteFactory(
        hub=hub,
        plan=plan,
        vehicle=VehicleFactory(home_hub=hub, capacity_parcels=30),
        driver=DriverFactory(home_hub=hub),
        start_time=at(DAY, 8),
        end_time=at(DAY, 16),
    )
    for sequence in (1, 2, 3):
        StopFactory(
            route=route,
            order=OrderFactory(hub=hub, status="dispatched"),
            sequence=sequence,
            planned_arrival=at(DAY, 9, 10 * sequence),
            planned_departure=at(DAY, 9, 10 * sequence + 4),
        )
    return route


def first_stop(route: Route) -> Stop:
    return route.stops.select_related("order").order_by("sequence").first()


def fail(
    stop: Stop,
    capture,
    *,
    status: str = "failed",
    reason: str = FailureReason.CUSTOMER_ABSENT,
    attempts: int = 1,
) -> Stop:
    """The order fails at the door (`attempts` made so far) and the stop becomes `status`."""
    order = Order.objects.get(pk=stop.order_id)
    for target in ("out_for_delivery", "failed"):
        order = order_transition(actor=None, order=order, to_status=target)
    Order.objects.filter(pk=order.pk).update(delivery_attempts=attempts)
    Stop.objects.filter(pk=stop.pk).update(failure_reason=reason)
    # Only the stop's event is delivered: the order's, published above, stay undelivered (the
    # driver app moves both in one transaction, so the stop is already failed when they arrive).
    with capture(execute=True):
        return stop_transition(actor=None, stop=Stop.objects.get(pk=stop.pk), to_status=status)
