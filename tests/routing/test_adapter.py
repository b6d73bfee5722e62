"""The adapter on plain objects: problem building, reading solutions back, timing edits."""

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from routing.adapter import Crew, build_problem, optimize, read_solution, time_route
from routing.solver import solve

HEL = ZoneInfo("Europe/Helsinki")
DAY = dt.date(2026, 12, 1)


def hub():
    return SimpleNamespace(pk=1, lat=60.1699, lng=24.9384, timezone="Europe/Helsinki")


def van(pk, parcels=3, **extra):
    fields = dict(
        pk=pk,
        name=f"Van {pk}",
        type="van",
        capacity_kg=500,
        capacity_m3=0,
        capacity_parcels=parcels,
        cost_fixed_per_day=10,
        cost_per_km=0.3,
        cost_per_hour=20,
        emissions_g_co2_per_km=150,
        range_km=None,
        skills=[],
    )
    fields.update(extra)
    return SimpleNamespace(**fields)


def driver(pk, **extra):
    return SimpleNamespace(pk=pk, skills=extra.get("skills", []))


SHIFT = {"start": "08:00", "end": "16:00", "breaks": [{"start": "12:00", "end": "12:30"}]}


def order(pk, lat=60.17, lng=24.94, start="09:00", end="15:00", **extra):
    fields = dict(
        pk=pk,
        merchant_reference=f"SO-{pk}",
        lat=lat,
        lng=lng,
        service_minutes=4,
        load_kg=2.5,
        load_m3=0.012,
        load_parcels=1,
        priority=0,
        required_skills=[],
        time_windows=[{"start": f"{DAY}T{start}:00+02:00", "end": f"{DAY}T{end}:00+02:00"}],
    )
    fields.update(extra)
    return SimpleNamespace(**fields)


def six_orders():
    return [order(i, lat=60.16 + i * 0.003, lng=24.93 + (i % 3) * 0.004) for i in range(1, 7)]


def test_problem_units_shift_breaks_capacity_and_skills():
    crews = [Crew(van(1, skills=["fridge"]), driver(7, skills=["adr"]), SHIFT)]
    orders = [order(1, required_skills=["fridge"]), order(2, lat=None, lng=None)]

    built = build_problem(hub=hub(), day=DAY, crews=crews, orders=orders)

    vehicle = built.problem.vehicles[0]
    job = built.problem.jobs[0]
    assert built.epoch == dt.datetime(2026, 12, 1, tzinfo=HEL)
    assert vehicle.time_window == (8 * 3600, 16 * 3600)
    assert vehicle.capacity == [500, 10**9, 3]
    assert [(b.time_windows, b.service_s) for b in vehicle.breaks] == [([(43200, 46800)], 1800)]
    assert vehicle.costs.fixed == 1000
    assert vehicle.costs.per_km == 30
    assert vehicle.costs.per_hour == 2000
    assert built.skills == {"adr": 1, "fridge": 2}
    assert vehicle.skills == frozenset({1, 2})
    assert job.skills == frozenset({2})
    assert job.delivery == [3, 12, 1]
    assert job.time_windows == [(9 * 3600, 15 * 3600)]
    assert job.service_s == 240
    assert [(u.order_id, u.reason) for u in built.rejected] == [(2, "no_location")]


def test_capacity_forces_a_split_between_two_vans():
    crews = [Crew(van(1), driver(11), SHIFT), Crew(van(2), driver(12), SHIFT)]
    built = build_problem(hub=hub(), day=DAY, crews=crews, orders=six_orders())

    result = read_solution(built, solve(built.problem, budget_s=1, seed=1))

    assert result.unassigned == []
    assert sorted(len(r.stops) for r in result.routes) == [3, 3]
    assert sorted(s.order_id for r in result.routes for s in r.stops) == [1, 2, 3, 4, 5, 6]
    for route in result.routes:
        assert [s.sequence for s in route.stops] == [1, 2, 3]
        assert route.load == {"kg": 9, "dm3": 36, "parcels": 3}
        assert route.stops[0].planned_arrival >= dt.datetime(2026, 12, 1, 9, tzinfo=HEL)
        assert all(a.planned_departure <= b.planned_arrival for a, b in zip(route.stops, route.stops[1:], strict=False))
        assert route.emissions_g == round(route.distance_m / 1000 * 150, 1)
        assert route.driver_id in (11, 12)


def test_no_vehicle_and_impossible_window_give_reasons():
    late = order(9, start="20:00", end="21:00")
    built = build_problem(hub=hub(), day=DAY, crews=[], orders=[order(1)])
    nobody = optimize(built, budget_s=0.5)
    built = build_problem(hub=hub(), day=DAY, crews=[Crew(van(1), driver(1), SHIFT)], orders=[late])
    impossible = optimize(built, budget_s=0.5)

    assert [(u.order_id, u.reason) for u in nobody.unassigned] == [(1, "no_vehicle")]
    assert [(u.order_id, u.reason) for u in impossible.unassigned] == [(9, "shift")]


def test_order_outside_the_day_is_rejected_before_solving():
    built = build_problem(hub=hub(), day=DAY, crews=[], orders=[order(3, start="09:00", end="10:00")])
    other = dt.date(2026, 12, 5)

    built_other = build_problem(hub=hub(), day=other, crews=[], orders=[order(3)])

    assert built.rejected == []
    assert [(u.order_id, u.reason) for u in built_other.rejected] == [(3, "outside_day")]


def test_time_route_reports_capacity_and_window_violations():
    crews = [Crew(van(1, parcels=2), driver(1), SHIFT)]
    orders = [order(1), order(2), order(3, start="08:00", end="08:01")]
    built = build_problem(hub=hub(), day=DAY, crews=crews, orders=orders)

    fine = time_route(built, 1, [1, 2])
    bad = time_route(built, 1, [1, 2, 3])

    assert fine.violations == []
    assert [s.order_id for s in fine.stops] == [1, 2]
    assert len(fine.breaks) == 1
    assert any("exceeds capacity" in v for v in bad.violations)
    assert any("job 3" in v for v in bad.violations)


def test_pinned_order_stays_on_its_vehicle():
    crews = [Crew(van(1, parcels=10), driver(1), SHIFT), Crew(van(2, parcels=10), driver(2), SHIFT)]
    built = build_problem(hub=hub(), day=DAY, crews=crews, orders=six_orders(), pinned={1: 2, 2: 2})

    result = read_solution(built, solve(built.problem, budget_s=1))

    on_two = next(r for r in result.routes if r.vehicle_id == 2)
    assert {1, 2} <= {s.order_id for s in on_two.stops}
