"""Fleet, orders and plans for dispatch tests: tenant-consistent, valid by default.

Everything hangs off a hub: vehicles and drivers are based there and belong to its organization,
orders are for that hub on `DAY` (tomorrow for the suite's clock, a Tuesday), validated, with a 09:00–15:00 window.
"""

import datetime as dt

import factory
from factory.django import DjangoModelFactory

from common import clock
from dispatch.models import Driver, Hub, Plan, Route, SlotHold, SlotTemplate, Stop, Vehicle
from dispatch.models.jobs import OptimizationJob
from orders.models import Order
from tests.clock import at, day

DAY = day(1)
SHIFT = {"start": "08:00", "end": "16:00", "breaks": [{"start": "12:00", "end": "12:30"}]}
WORK_WEEK = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), SHIFT)


class VehicleFactory(DjangoModelFactory):
    class Meta:
        model = Vehicle

    home_hub: Hub = None  # type: ignore[assignment]
    organization = factory.LazyAttribute(lambda o: o.home_hub.organization)
    name = factory.Sequence(lambda n: f"Van {n + 1}")
    type = "van"
    capacity_kg = 500
    capacity_m3 = 4
    capacity_parcels = 3
    cost_fixed_per_day = 10
    cost_per_km = 0.3
    cost_per_hour = 20
    emissions_g_co2_per_km = 150


class DriverFactory(DjangoModelFactory):
    class Meta:
        model = Driver

    home_hub: Hub = None  # type: ignore[assignment]
    organization = factory.LazyAttribute(lambda o: o.home_hub.organization)
    name = factory.Sequence(lambda n: f"Driver {n + 1}")
    weekly_shifts = factory.LazyFunction(lambda: dict(WORK_WEEK))


class OrderFactory(DjangoModelFactory):
    class Meta:
        model = Order

    hub: Hub = None  # type: ignore[assignment]
    organization = factory.LazyAttribute(lambda o: o.hub.organization)
    merchant_reference = factory.Sequence(lambda n: f"SO-{n + 1:04d}")
    status = "validated"
    customer_name = "Aino Virtanen"
    address_text = factory.Sequence(lambda n: f"Mannerheimintie {n + 1}")
    lat = factory.Sequence(lambda n: 60.160 + (n % 6) * 0.003)
    lng = factory.Sequence(lambda n: 24.930 + (n % 3) * 0.004)
    delivery_date = DAY
    time_windows = factory.LazyFunction(lambda: [{"start": at(DAY, 9).isoformat(), "end": at(DAY, 15).isoformat()}])
    window_start = at(DAY, 9)
    window_end = at(DAY, 15)
    service_minutes = 4
    load_kg = 2.5
    load_m3 = 0.01
    load_parcels = 1


class PlanFactory(DjangoModelFactory):
    class Meta:
        model = Plan

    hub: Hub = None  # type: ignore[assignment]
    organization = factory.LazyAttribute(lambda o: o.hub.organization)
    date = DAY
    wave = factory.Sequence(lambda n: n + 1)
    time_budget_s = 1


class RouteFactory(DjangoModelFactory):
    class Meta:
        model = Route

    class Params:
        hub: Hub = None  # type: ignore[assignment]

    plan = factory.LazyAttribute(lambda o: PlanFactory(hub=o.hub))
    vehicle = factory.LazyAttribute(lambda o: VehicleFactory(home_hub=o.hub))


class StopFactory(DjangoModelFactory):
    """A planned stop on a route of its own, for an order of `hub`."""

    class Meta:
        model = Stop

    class Params:
        hub: Hub = None  # type: ignore[assignment]

    route = factory.LazyAttribute(lambda o: RouteFactory(hub=o.hub))
    order = factory.LazyAttribute(lambda o: OrderFactory(hub=o.hub))
    sequence = 1
    planned_arrival = factory.LazyFunction(clock.now)
    planned_departure = factory.LazyFunction(clock.now)


class SlotTemplateFactory(DjangoModelFactory):
    class Meta:
        model = SlotTemplate

    hub: Hub = None  # type: ignore[assignment]
    organization = factory.LazyAttribute(lambda o: o.hub.organization)
    weekdays = factory.LazyFunction(lambda: ["mon", "tue", "wed", "thu", "fri"])
    start_time = dt.time(10)
    end_time = dt.time(12)


class SlotHoldFactory(DjangoModelFactory):
    """An active hold of the 10–12 slot on `DAY`, expiring in ten minutes."""

    class Meta:
        model = SlotHold

    hub: Hub = None  # type: ignore[assignment]
    organization = factory.LazyAttribute(lambda o: o.hub.organization)
    template = factory.LazyAttribute(lambda o: SlotTemplateFactory(hub=o.hub))
    date = DAY
    start = factory.LazyAttribute(lambda o: o.template.window(o.date)[0])
    end = factory.LazyAttribute(lambda o: o.template.window(o.date)[1])
    lat = 60.17
    lng = 24.94
    expires_at = factory.LazyFunction(lambda: clock.now() + dt.timedelta(minutes=10))
    created_by = "test"


class OptimizationJobFactory(DjangoModelFactory):
    class Meta:
        model = OptimizationJob

    actor = "test"
    document = factory.LazyFunction(dict)
    budget_s = 1


def small_fleet(hub, *, vans: int = 2, orders: int = 6, parcels: int = 3) -> tuple[list, list, list]:
    """`vans` vans of `parcels` parcels with one driver each, and `orders` one-parcel orders."""
    vehicles = [VehicleFactory(home_hub=hub, capacity_parcels=parcels) for _ in range(vans)]
    drivers = [DriverFactory(home_hub=hub) for _ in range(vans)]
    return vehicles, drivers, [OrderFactory(hub=hub) for _ in range(orders)]
