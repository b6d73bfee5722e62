"""The committed routes behind the insertion test: a day's plan wins, changes rebuild them."""

import datetime as dt

import pytest

from accounts.tenancy import Actor
from dispatch.models import Plan, Route, Stop
from dispatch.slots.capacity import crews_on
from dispatch.slots.selectors import slot_day_state
from orders.services import order_update
from tests.dispatch.slots.test_slot_fixtures import DAY, HELSINKI, crew, frozen, make_order, window  # noqa: F401

# Shared fixtures are imported from test_slot_fixtures; pyflakes reads their use as arguments as
# redefinitions.
# ruff: noqa: F811

pytestmark = pytest.mark.django_db


def routes_of(hub, frozen):
    return slot_day_state(hub=hub, day=DAY, now=frozen.at, crews=crews_on(hub=hub, day=DAY), templates=[]).routes()


def test_the_plan_stop_order_is_kept(hub, crew, frozen):
    vehicle, driver = crew
    first, second = make_order(hub, "SO-1"), make_order(hub, "SO-2", point=(60.18, 24.95))
    plan = Plan.objects.create(organization=hub.organization, hub=hub, date=DAY, status="optimized")
    route = Route.objects.create(plan=plan, vehicle=vehicle, driver=driver)
    at = dt.datetime.combine(DAY, dt.time(10), tzinfo=HELSINKI)
    for sequence, order in enumerate((second, first), start=1):
        Stop.objects.create(route=route, order=order, sequence=sequence, planned_arrival=at, planned_departure=at)

    routes = routes_of(hub, frozen)

    assert routes.sequences == {vehicle.pk: [second.pk, first.pk]}
    assert routes.unrouted == []


def test_a_new_order_rebuilds_the_routes_keeping_the_previous_order(hub, crew, frozen):
    vehicle, _ = crew
    first = make_order(hub, "SO-1")
    before = routes_of(hub, frozen)

    second = make_order(hub, "SO-2", start="14:00", end="16:00")
    after = routes_of(hub, frozen)
    again = routes_of(hub, frozen)

    assert before.sequences == {vehicle.pk: [first.pk]}
    assert after.sequences == {vehicle.pk: [first.pk, second.pk]}
    assert again is after


def test_a_stop_nobody_can_serve_stays_off_the_routes(hub, crew, frozen):
    vehicle, _ = crew
    too_big = make_order(hub, "SO-BIG", parcels=31)

    routes = routes_of(hub, frozen)

    assert (routes.sequences, routes.unrouted) == ({vehicle.pk: []}, [too_big.pk])


def test_rebuilt_matrices_reuse_known_points_and_match_a_fresh_computation():
    """Pure: the provider computes only new points' rows; the result equals a full computation."""
    import numpy as np

    from routing import GreatCircleProvider, ReusingProvider

    points = [(60.17 + k * 0.003, 24.94 + (k % 7) * 0.004) for k in range(40)]
    provider = ReusingProvider()
    provider.matrices(points[:30], "van")

    reused = provider.matrices([points[35], *points[:30][::-1], *points[30:35]], "van")

    fresh = GreatCircleProvider().matrices([points[35], *points[:30][::-1], *points[30:35]], "van")
    assert np.abs(reused[0].astype(int) - fresh[0]).max() <= 1
    assert np.abs(reused[1].astype(int) - fresh[1]).max() <= 1


def test_a_changed_window_does_not_leave_a_stop_where_it_no_longer_fits(hub, crew, frozen):
    vehicle, _ = crew
    late = make_order(hub, "SO-1", start="14:00", end="16:00")
    early = make_order(hub, "SO-2", start="10:00", end="12:00", point=(60.18, 24.95))
    assert routes_of(hub, frozen).sequences == {vehicle.pk: [early.pk, late.pk]}
    frozen.advance(minutes=1)  # the change moves the order's updated_at, part of the fingerprint

    order_update(
        actor=Actor(organization=hub.organization),
        order=late,
        changes={"time_windows": [window(DAY, "08:00", "09:00")]},
    )
    routes = routes_of(hub, frozen)

    assert routes.sequences == {vehicle.pk: [late.pk, early.pk]}
