"""A dispatched route of today for the signed-in driver, with stops whose orders are dispatched."""

import pytest

from accounts.tenancy import Actor
from tests.clock import TODAY, at
from tests.factories.fleet import DriverFactory, OrderFactory, PlanFactory, RouteFactory, StopFactory


@pytest.fixture
def driver(hub, driver_user):
    return DriverFactory(home_hub=hub, user=driver_user, name="Mikko Lahti")


@pytest.fixture
def driver_actor(driver_user):
    return Actor(organization=driver_user.organization, user=driver_user)


@pytest.fixture
def dispatcher_actor(dispatcher_user):
    return Actor(organization=dispatcher_user.organization, user=dispatcher_user)


@pytest.fixture
def route(hub, driver):
    plan = PlanFactory(hub=hub, date=TODAY, status="dispatched")
    return RouteFactory(hub=hub, plan=plan, driver=driver, load_parcels=3)


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
