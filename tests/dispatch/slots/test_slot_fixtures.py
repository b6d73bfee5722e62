"""Shared slot fixtures and helpers (imported by the other test_slot_* modules).

The world: hub "hel-1" (radius 10 km) with one car (30 parcels) and one driver working every
day 08:00–16:00 with a break 12:00–12:30; "now" is Tuesday 08:00 in Helsinki, the day after the
suite's START (tests/clock.py).
With no order history a stop takes 3 min of service plus a 0.25 × 10 km × 1.3 = 3.25 km leg
at 30 km/h (390 s): 570 s, i.e. 6.3158 stops per hour.
"""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.tenancy import Actor
from dispatch.models import Driver, SlotTemplate, Vehicle
from dispatch.slots import route_fit
from orders.models import Order
from orders.services import order_create
from tests.clock import HELSINKI, at, day

NOW = at(day(1), 8)  # Tuesday 08:00, the day after the suite's START
DAY = day(2)  # Wednesday
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
SHIFT = {"start": "08:00", "end": "16:00", "breaks": [{"start": "12:00", "end": "12:30"}]}
NEAR = (60.1688, 24.9440)  # Aleksanterinkatu, 0.3 km from the hub


def test_fixture_module_has_no_tests_of_its_own():
    """This module only shares fixtures; the assertion keeps pytest from reporting it empty."""
    assert NOW.weekday() == 1


class FrozenClock:
    """Stops the suite's clock at `at`: `common.clock.now` and every default taken from it."""

    def __init__(self, time_machine, at: dt.datetime):
        self.time_machine = time_machine
        self.at = at

    @property
    def at(self) -> dt.datetime:
        return self._at

    @at.setter
    def at(self, instant: dt.datetime) -> None:
        self._at = instant
        self.time_machine.move_to(instant, tick=False)

    def advance(self, **delta) -> None:
        self.at += dt.timedelta(**delta)


@pytest.fixture
def frozen(time_machine):
    route_fit.cache_clear()
    return FrozenClock(time_machine, NOW)


def make_crew(hub, *, name="Car 1", vehicle_type="car", parcels=30, kg=0, shift=None) -> tuple[Vehicle, Driver]:
    vehicle = Vehicle.objects.create(
        organization=hub.organization,
        name=name,
        type=vehicle_type,
        capacity_parcels=parcels,
        capacity_kg=kg,
        home_hub=hub,
    )
    driver = Driver.objects.create(
        organization=hub.organization,
        name=f"Driver of {name}",
        home_hub=hub,
        weekly_shifts={day: shift or SHIFT for day in EVERY_DAY},
    )
    return vehicle, driver


@pytest.fixture
def crew(hub):
    return make_crew(hub)


def make_template(hub, start="10:00", end="12:00", **fields) -> SlotTemplate:
    return SlotTemplate.objects.create(
        organization=hub.organization,
        hub=hub,
        weekdays=fields.pop("weekdays", EVERY_DAY),
        start_time=dt.time.fromisoformat(start),
        end_time=dt.time.fromisoformat(end),
        price=fields.pop("price", Decimal("4.90")),
        **fields,
    )


@pytest.fixture
def morning(hub):
    return make_template(hub)


def window(day: dt.date, start: str, end: str) -> dict:
    return {
        "start": dt.datetime.combine(day, dt.time.fromisoformat(start), tzinfo=HELSINKI),
        "end": dt.datetime.combine(day, dt.time.fromisoformat(end), tzinfo=HELSINKI),
    }


def make_order(hub, reference: str, *, day=DAY, start="10:00", end="12:00", point=NEAR, parcels=1) -> Order:
    row = {
        "merchant_reference": reference,
        "type": "delivery",
        "hub": hub,
        "customer": {"name": "Aino Virtanen", "phone": "", "email": ""},
        "address": {
            "text": "Aleksanterinkatu 52",
            "postcode": "00100",
            "city": "Helsinki",
            "country": "FI",
            "lat": point[0],
            "lng": point[1],
        },
        "time_windows": [window(day, start, end)],
        "service_minutes": 3,
        "load": {"kg": 2, "m3": 0.01, "parcels": parcels},
        "priority": 0,
        "required_skills": [],
        "proof_of_delivery": [],
        "cash_on_delivery": None,
        "instructions": "",
    }
    return order_create(actor=Actor(organization=hub.organization), row=row)


def availability(client, **params):
    query = {"lat": NEAR[0], "lng": NEAR[1], "date_from": str(DAY), "date_to": str(DAY), **params}
    return client.get("/api/slots/availability", query)


def slot_row(response, start: str) -> dict:
    return next(s for s in response.json()["slots"] if s["start"].endswith(f"T{start}:00+02:00"))
