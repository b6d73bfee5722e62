"""Attempts at one route fewer inside PyVRP's search (routing.engines.fewer_routes)."""

from __future__ import annotations

import time

import pytest
import pyvrp

from bench.cities import city_document
from routing.engines import fewer_routes
from routing.engines.pyvrp_engine import _Stop, build_data, cost_divisor
from routing.model import compile_problem
from routing.solver import solve
from routing.vroom_json import parse_problem
from tests.routing.problems import feasible, line_problem, visits

CLIENT = pyvrp.ActivityType.CLIENT


def _data(jobs: list[dict], vehicles: list[dict]) -> pyvrp.ProblemData:
    model = compile_problem(line_problem(jobs, vehicles))
    ids = list(range(len(model.tasks)))
    data, _, _ = build_data(model, ids, required=True, g=cost_divisor(model, ids))
    return data


def _van(ident: int, capacity: int, fixed: int = 10_000) -> dict:
    return {"id": ident, "start_index": 0, "end_index": 0, "capacity": [capacity], "costs": {"fixed": fixed}}


def _plan(data: pyvrp.ProblemData, routes: list[tuple[int, list[int]]]) -> pyvrp.Solution:
    """A PyVRP solution from (vehicle type, [client indices]) pairs."""
    return pyvrp.Solution(data, [pyvrp.Route(data, [pyvrp.Activity(CLIENT, c) for c in cs], t) for t, cs in routes])


def _stop(max_iterations: int = 300) -> _Stop:
    return _Stop(60.0, time.perf_counter(), None, None, max_iterations, 1)


def _clients(solution: pyvrp.Solution) -> list[list[int]]:
    return sorted(sorted(a.idx for a in r if a.is_client()) for r in solution.routes())


def test_a_route_fewer_is_found_when_the_others_have_room():
    """Three one-stop routes, vans for two stops each: the smallest route goes, its stop
    joins another van, and the plan is cheaper by one fixed cost."""
    data = _data([{"id": k, "location_index": k, "delivery": [1]} for k in (1, 2, 3)], [_van(v, 2) for v in (1, 2, 3)])
    best = _plan(data, [(0, [0]), (0, [1]), (0, [2])])

    found = fewer_routes._attempt(data, best, 0, _stop(), seed=1)

    assert found is not None
    assert found.is_feasible()
    assert found.num_routes() == 2
    assert sorted(map(len, _clients(found))) == [1, 2]
    assert fewer_routes.cost(data, found) < fewer_routes.cost(data, best)


def test_no_route_fewer_when_the_load_needs_every_van():
    """Each stop fills a van: without one of them no feasible plan exists."""
    data = _data([{"id": k, "location_index": k, "delivery": [2]} for k in (1, 2, 3)], [_van(v, 2) for v in (1, 2, 3)])
    best = _plan(data, [(0, [0]), (0, [1]), (0, [2])])

    assert fewer_routes._attempt(data, best, 0, _stop(), seed=1) is None


def test_dropping_the_only_route_of_a_type_maps_the_types_back():
    """Vans (one type) and a bike (another): the bike's one-stop route is the smallest, so
    the bike type is left out of the attempt, and the answer is on the original types."""
    jobs = [{"id": k, "location_index": k, "delivery": [1]} for k in (1, 2, 3, 4, 5)]
    vehicles = [_van(1, 4), _van(2, 4), _van(3, 1, fixed=5_000)]
    data = _data(jobs, vehicles)
    types = [vt.num_available for vt in data.vehicle_types()]
    assert types == [2, 1]  # the two vans merge into one type
    best = _plan(data, [(0, [0, 1]), (0, [2, 3]), (1, [4])])

    found = fewer_routes._attempt(data, best, 0, _stop(), seed=1)

    assert found is not None
    assert [r.vehicle_type() for r in found.routes()] == [0, 0]
    assert sorted(a for cs in _clients(found) for a in cs) == [0, 1, 2, 3, 4]


def test_stop_phases_split_an_iteration_budget():
    stop = _stop(max_iterations=100)

    stop.phase(0.4)
    calls = 1
    while not stop(0):
        calls += 1

    assert calls == 41
    assert stop.has_left(0.5)
    assert not stop.has_left(0.6)
    stop.phase(None)
    assert not any(stop(0) for _ in range(59))
    assert stop(0)


def _depot_city(n: int, fixed: int) -> dict:
    """``n`` one-parcel stops along a line, vans for five parcels each (two more than needed)."""
    jobs = [{"id": k, "location_index": 1 + k % 5, "delivery": [1], "service": 60} for k in range(n)]
    return {"jobs": jobs, "vehicles": [_van(v, 5, fixed) for v in range(1, n // 5 + 3)]}


@pytest.mark.parametrize("fixed", [0, 10_000])
def test_solve_with_fixed_costs_is_repeatable_and_feasible(fixed):
    doc = _depot_city(20, fixed)
    problem = line_problem(doc["jobs"], doc["vehicles"])

    runs = [solve(problem, budget_s=30, seed=2, engine="pyvrp", max_iterations=400) for _ in range(2)]

    assert visits(runs[0]) == visits(runs[1])
    assert feasible(problem, runs[0])
    assert len(runs[0].routes) == 4  # 20 parcels, 5 per van


def test_without_fixed_costs_no_attempt_is_made(monkeypatch):
    """Distance-only problems (Solomon, Gehring–Homberger) keep PyVRP's plain search."""

    def refuse(*args):
        raise AssertionError("fewer-routes phases on a problem without fixed costs")

    monkeypatch.setattr(fewer_routes, "solve_with_fewer_routes", refuse)
    doc = _depot_city(20, 0)
    problem = line_problem(doc["jobs"], doc["vehicles"])

    assert feasible(problem, solve(problem, budget_s=30, seed=2, engine="pyvrp", max_iterations=200))


def test_city_plan_uses_as_few_vans_as_its_load_allows(monkeypatch):
    """150 stops with 2,016 kg: three 800-kg vans are the fewest that can carry it (two vans
    and both 90-kg bikes carry 1,780 kg). In 2,000 iterations the phases reach three routes;
    PyVRP's plain search, same seed and iterations, still ends with four."""
    problem = parse_problem(city_document(150, 101, with_matrices=True))

    phased = solve(problem, budget_s=60, seed=1, engine="pyvrp", max_iterations=2000)
    monkeypatch.setattr(fewer_routes, "worth_trying", lambda data: False)
    plain = solve(problem, budget_s=60, seed=1, engine="pyvrp", max_iterations=2000)

    assert feasible(problem, phased)
    assert not phased.unassigned
    assert len(phased.routes) == 3
    assert len(plain.routes) == 4
    assert phased.cost < plain.cost


def test_shipments_keep_their_order_through_the_attempts(monkeypatch):
    """Two one-parcel shipments and two two-parcel deliveries, vans for two parcels on board
    (so two routes at least): the attempts move pickups and deliveries as pairs, pickup
    first, on one vehicle."""
    shipments = [
        {"amount": [1], "pickup": {"id": 10 + k, "location_index": 4}, "delivery": {"id": 20 + k, "location_index": k}}
        for k in (1, 2)
    ]
    jobs = [{"id": k, "location_index": k, "delivery": [2]} for k in (3, 5)]
    problem = line_problem(jobs, [_van(v, 2) for v in (1, 2, 3, 4)], shipments=shipments)
    attempts = []
    attempt = fewer_routes._attempt
    monkeypatch.setattr(fewer_routes, "_attempt", lambda *args: attempts.append(attempt(*args)) or attempts[-1])

    solution = solve(problem, budget_s=30, seed=1, engine="pyvrp", max_iterations=500)

    assert attempts
    assert feasible(problem, solution)
    assert not solution.unassigned
    for stops in visits(solution).values():
        for k in (1, 2):
            if ("pickup", 10 + k) in stops:
                assert stops.index(("pickup", 10 + k)) < stops.index(("delivery", 20 + k))


def test_a_set_up_too_slow_for_attempts_leaves_the_first_search_the_whole_budget():
    """When PyVRP's set-up alone exceeds the limit no attempt could follow, so the first
    phase runs to the budget's end instead of stopping at its share."""
    stop = _Stop(100.0, time.perf_counter(), None, None, None, 1)
    stop.phase(0.4, whole_if_setup_over_s=0.0)
    assert stop.phase_end_s == pytest.approx(40.0, abs=1.0)

    assert not stop(0)

    assert stop.phase_end_s == 100.0


def test_a_quick_set_up_keeps_the_first_share():
    stop = _Stop(100.0, time.perf_counter(), None, None, None, 1)
    stop.phase(0.4, whole_if_setup_over_s=60.0)

    assert not stop(0)

    assert stop.phase_end_s == pytest.approx(40.0, abs=1.0)
