"""Slot capacity is derived from shifts and vehicles; a manual cap only lowers it."""

# Shared fixtures are imported from test_slot_fixtures; pyflakes reads their use as arguments as
# redefinitions.
# ruff: noqa: F811

from types import SimpleNamespace

import pytest

from dispatch.planning.selectors import plan_crews
from dispatch.slots.capacity import crews_on, hub_profile, slot_capacity
from tests.dispatch.slots.test_slot_fixtures import DAY, crew, frozen, make_crew, make_template  # noqa: F401

pytestmark = pytest.mark.django_db


def capacity_of(template):
    hub = template.hub
    return slot_capacity(template=template, day=DAY, profile=hub_profile(hub=hub), crews=crews_on(hub=hub, day=DAY))


def test_a_two_hour_slot_is_bounded_by_the_vehicle_load_spread_over_the_shift(hub, crew, frozen):
    """10–12: 2 h × 6.3158 stops/h = 12.6 by time; 30 parcels × 2 h / 7.5 h worked = 8 by load."""
    capacity = capacity_of(make_template(hub, "10:00", "12:00"))

    assert capacity.value == 8
    [part] = capacity.crews
    assert part["stops_per_hour"] == 6.316
    assert round(part["by_time"], 3) == 12.632
    assert part["by_load"] == 8.0


def test_the_driver_break_is_not_capacity(hub, crew, frozen):
    """12–14 overlaps 1.5 h of work (break 12:00–12:30): 30 × 1.5 / 7.5 = 6."""
    assert capacity_of(make_template(hub, "12:00", "14:00")).value == 6


def test_an_unlimited_vehicle_is_bounded_by_time_and_crews_add_up(hub, frozen):
    make_crew(hub, name="Car 1", parcels=0)
    make_crew(hub, name="Bike 1", vehicle_type="bike", parcels=0)
    # Bike at 15 km/h: 3.25 km take 780 s, + 180 s → 3.75 stops/h → 7.5 in 2 h; car 12.63.

    assert capacity_of(make_template(hub, "10:00", "12:00")).value == 20


def test_no_driver_at_work_means_no_capacity(hub, frozen):
    make_crew(hub, shift={"start": "13:00", "end": "17:00"})

    assert capacity_of(make_template(hub, "10:00", "12:00")).value == 0


@pytest.mark.parametrize(("cap", "expected"), [pytest.param(5, 5, id="lowers"), pytest.param(50, 8, id="never-raises")])
def test_a_manual_cap_only_lowers_capacity(hub, crew, frozen, cap, expected):
    assert capacity_of(make_template(hub, "10:00", "12:00", manual_cap=cap)).value == expected


def test_a_day_off_override_removes_the_driver(hub, crew, frozen):
    _, driver = crew
    driver.shift_overrides.create(date=DAY, off=True)

    assert capacity_of(make_template(hub, "10:00", "12:00")).value == 0


def test_crews_pair_like_daily_plans(hub, frozen):
    """The longest shift gets the biggest vehicle, exactly as `plan_crews` pairs them."""
    make_crew(hub, name="A small car", parcels=10, shift={"start": "10:00", "end": "14:00"})
    make_crew(hub, name="B big van", vehicle_type="van", parcels=90)
    make_crew(hub, name="C tiny car", parcels=5, shift={"start": "09:00", "end": "10:00"})

    ours = crews_on(hub=hub, day=DAY)

    theirs = plan_crews(plan=SimpleNamespace(organization=hub.organization, hub=hub, date=DAY))
    assert [(c.vehicle, c.driver) for c in ours] == [(c.vehicle, c.driver) for c in theirs]
    assert [(c.vehicle.name, c.driver.name) for c in ours] == [
        ("B big van", "Driver of B big van"),
        ("A small car", "Driver of A small car"),
        ("C tiny car", "Driver of C tiny car"),
    ]
