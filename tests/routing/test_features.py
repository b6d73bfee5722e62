"""Less common constraints: several windows, overtime, max tasks, travel time, setup, reasons."""

from __future__ import annotations

import pytest

from bench.cities import city_document
from routing.model import compile_problem
from routing.solver import assemble, reinsert, solve
from routing.verify import verify
from routing.vroom_json import parse_problem
from tests.routing.problems import feasible, line_problem, visits


def test_second_window_is_used_when_the_first_is_missed():
    """Place 3 opens [0, 100] and [600, 700]: the van leaves at 300 to arrive at 600."""
    problem = line_problem([{"id": 1, "location_index": 3, "time_windows": [[0, 100], [600, 700]]}])

    solution = solve(problem, budget_s=0.2)

    start, job = solution.routes[0].steps[:2]
    assert (start.arrival, job.arrival, job.waiting_time) == (300, 600, 0)
    assert solution.engine == "ortools"
    assert feasible(problem, solution)


def test_overtime_is_allowed_and_priced():
    """The shift ends at 500 s; finishing at 800 s costs 300 s of overtime at 7200 per hour."""
    vehicles = [
        {"id": 1, "start_index": 0, "end_index": 0, "time_window": [0, 500], "max_overtime": 600, "overtime_cost": 7200}
    ]
    problem = line_problem([{"id": 1, "location_index": 4}], vehicles)

    solution = solve(problem, budget_s=0.2)

    route = solution.routes[0]
    assert (route.overtime, route.cost_breakdown["overtime"], route.cost) == (300, 600, 1400)
    assert feasible(problem, solution)


def test_shift_too_short_gives_reason_shift():
    vehicles = [{"id": 1, "start_index": 0, "end_index": 0, "time_window": [0, 500]}]
    problem = line_problem([{"id": 1, "location_index": 4}], vehicles)

    solution = solve(problem, budget_s=0.2)

    assert [(u.id, u.reason) for u in solution.unassigned] == [(1, "shift")]


@pytest.mark.parametrize(
    ("vehicle", "job", "reason"),
    [
        ({"capacity": [2]}, {"delivery": [3]}, "capacity"),
        ({"max_travel_time": 500}, {}, "max_travel_time"),
        ({"time_window": [1000, 2000]}, {"time_windows": [[0, 900]]}, "shift"),
    ],
    ids=["capacity", "max_travel_time", "window outside shift"],
)
def test_single_task_checks_give_their_reason(vehicle, job, reason):
    vehicles = [{"id": 1, "start_index": 0, "end_index": 0, "capacity": [5], **vehicle}]
    problem = line_problem([{"id": 1, "location_index": 4, "delivery": [1], **job}], vehicles)

    solution = solve(problem, budget_s=0.2)

    assert [(u.id, u.reason) for u in solution.unassigned] == [(1, reason)]


def test_max_tasks_splits_the_work():
    vehicles = [{"id": v, "start_index": 0, "end_index": 0, "max_tasks": 1} for v in (1, 2)]
    problem = line_problem([{"id": 1, "location_index": 1}, {"id": 2, "location_index": 2}], vehicles)

    solution = solve(problem, budget_s=0.3)

    assert sorted(len(stops) for stops in visits(solution).values()) == [1, 1]
    assert feasible(problem, solution)


def test_setup_time_applies_once_per_place():
    """Two stops at the same address: 60 s of setup (parking) is paid once."""
    problem = line_problem([{"id": k, "location_index": 2, "setup": 60, "service": 30} for k in (1, 2)])

    solution = solve(problem, budget_s=0.2)

    steps = solution.routes[0].steps
    assert [(s.setup, s.arrival) for s in steps[1:3]] == [(60, 200), (0, 290)]
    assert steps[-1].arrival == 520
    assert feasible(problem, solution)


def test_priority_decides_who_is_left_out():
    """One slot before the shift ends: the priority-90 stop gets it."""
    vehicles = [{"id": 1, "start_index": 0, "end_index": 0, "time_window": [0, 500]}]
    problem = line_problem(
        [
            {"id": 1, "location_index": 2, "service": 60},
            {"id": 2, "location_index": 2, "service": 60, "priority": 90},
        ],
        vehicles,
    )

    solution = solve(problem, budget_s=0.3, engine="ortools")

    assert visits(solution) == {1: [("job", 2)]}
    assert [(u.id, u.reason) for u in solution.unassigned] == [(1, "no_vehicle")]
    assert feasible(problem, solution)


def test_large_rich_problem_is_seeded_by_pyvrp_and_verified():
    """120 city stops with lunch breaks, skills and two-window stops."""
    problem = parse_problem(city_document(120, seed=4, rich=True))

    solution = solve(problem, budget_s=3, seed=1)

    assert solution.engine == "ortools+pyvrp-seed"
    assert solution.unassigned == []
    assert any(s.type == "break" for r in solution.routes for s in r.steps)
    assert feasible(problem, solution)


def test_seeded_search_repeats_with_an_iteration_budget():
    problem = parse_problem(city_document(110, seed=6, rich=True))

    runs = [visits(solve(problem, budget_s=30, seed=2, max_iterations=100)) for _ in range(2)]

    assert runs[0] == runs[1]


def test_jobs_a_repaired_seed_left_out_go_back_where_they_fit():
    """Job 2 fits next to job 1 (either order costs the same on the line) with the lunch
    break re-placed; job 3 (place 5, window closing at 300 s, 500 s away) fits nowhere."""
    vehicles = [
        {
            "id": 1,
            "start_index": 0,
            "end_index": 0,
            "time_window": [0, 3000],
            "breaks": [{"id": 1, "time_windows": [[200, 400]], "service": 300}],
        }
    ]
    jobs = [
        {"id": 1, "location_index": 1},
        {"id": 2, "location_index": 2, "time_windows": [[0, 1000]]},
        {"id": 3, "location_index": 5, "time_windows": [[0, 300]]},
    ]
    problem = line_problem(jobs, vehicles)
    model = compile_problem(problem)

    routes = reinsert(model, {0: [0]}, [0, 1, 2])

    assert list(routes) == [0]
    assert sorted(routes[0]) == [0, 1]
    solution = assemble(model, routes, {})
    assert ("break", 1) in [(s.type, s.id) for s in solution.routes[0].steps]
    assert [u.id for u in solution.unassigned] == [3]
    assert verify(problem, solution) == []


def test_a_second_seed_leaves_time_for_its_repair(monkeypatch):
    """When OR-Tools rejects the first seed, the second seed's search ends early by twice what
    the first repair took, so that its own repair still fits in the budget."""
    from routing import solver as solver_module
    from routing.eligibility import eligibility

    problem = line_problem([{"id": 1, "location_index": 1}], [{"id": 1, "start_index": 0, "end_index": 0}])
    model = compile_problem(problem)
    allowed, _reasons = eligibility(model)
    now = [100.0]  # a search clock that moves only when the test says so
    search = solver_module._Search(model, [0], allowed, 110.0, 1, None, None, None, clock=lambda: now[0])
    budgets = []

    def seed_search(*_args, budget_s, **_kwargs):
        budgets.append((budget_s, search.deadline - now[0]))
        now[0] += 1.0  # each seed search spends one second
        return {0: [0]}

    def slow_repair(_model, routes):
        now[0] += 0.25
        return routes

    monkeypatch.setattr(solver_module, "solve_pyvrp", seed_search)
    monkeypatch.setattr(solver_module, "repair", slow_repair)
    monkeypatch.setattr(solver_module._Search, "ortools", lambda self, initial: {})  # the seed is rejected

    search.seeded_ortools()

    assert len(budgets) == 2
    second_budget, time_left = budgets[1]
    assert search.repair_s == 0.25
    assert second_budget == pytest.approx(time_left - 2 * 0.25)
