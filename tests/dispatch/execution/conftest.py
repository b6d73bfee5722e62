"""Stops of the driver's dispatched route of today (tests/conftest.py), their orders dispatched."""

import pytest

from tests.clock import TODAY, at
from tests.factories.fleet import OrderFactory, StopFactory


@pytest.fixture
def make_stop(hub, route):
    """`make_stop(**order_fields)`: the next stop of `route`, its order dispatched for today."""

    def make(*, status="planned", route=route, **order_fields):
        order_fields.setdefault("status", "dispatched")
        order = OrderFactory(hub=hub, delivery_date=TODAY, **order_fields)
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
