"""Cheapest insertion into committed routes and live re-optimisation."""

from __future__ import annotations

from routing.dynamic import (
    InsertionPlan,
    VehicleState,
    best_insertion,
    live_problem,
    reoptimise,
)
from routing.problem import Job, Place
from routing.solver import solve
from routing.verify import verify
from tests.routing.problems import line_problem, visits


def _plan():
    vehicles = [{"id": 1, "start_index": 0, "end_index": 0, "capacity": [4], "time_window": [0, 2000]}]
    problem = line_problem(
        [
            {"id": 1, "location_index": 1, "delivery": [1], "time_windows": [[0, 150]]},
            {"id": 3, "location_index": 3, "delivery": [1], "time_windows": [[0, 350]]},
        ],
        vehicles,
    )
    return problem, solve(problem, budget_s=0.2)


def test_best_insertion_lists_feasible_positions_cheapest_first():
    """Place 2 lies on the way: between stops 1 and 3 or on the way back it costs nothing."""
    problem, solution = _plan()
    assert visits(solution) == {1: [("job", 1), ("job", 3)]}
    plan = InsertionPlan(problem, solution)

    found = best_insertion(plan, Job(id=9, place=Place(index=2), delivery=[1]))

    assert [(c.vehicle, c.position, c.added_cost, c.arrival) for c in found] == [
        (1, 1, 0.0, 200),
        (1, 2, 0.0, 400),
    ]


def test_stop_before_a_late_first_stop_leaves_at_the_shift_start():
    """The timed route leaves at 700 s so the driver does not wait at its first door (window from
    1000 s); the vehicle can still leave at 0 and serve place 1 by 200 s before going on."""
    vehicles = [{"id": 1, "start_index": 0, "end_index": 0, "capacity": [4], "time_window": [0, 2000]}]
    problem = line_problem([{"id": 3, "location_index": 3, "time_windows": [[1000, 1100]]}], vehicles)
    solution = solve(problem, budget_s=0.2)
    assert solution.routes[0].steps[0].arrival == 700
    plan = InsertionPlan(problem, solution)

    found = best_insertion(plan, Job(id=9, place=Place(index=1), delivery=[1], time_windows=[(0, 200)]))

    assert [(c.vehicle, c.position, c.added_cost, c.arrival) for c in found] == [(1, 0, 0.0, 100)]


def test_best_insertion_respects_windows_and_capacity():
    problem, solution = _plan()
    plan = InsertionPlan(problem, solution)

    # Before stop 3 only, and stop 3 closes at 350: a detour to place 5 never fits there.
    late = best_insertion(plan, Job(id=9, place=Place(index=5), time_windows=[(0, 400)]))
    heavy = best_insertion(plan, Job(id=8, place=Place(index=2), delivery=[3]))

    assert late == []
    assert heavy == []


def test_reoptimise_inserts_new_jobs_and_drops_cancelled_ones():
    problem, _ = _plan()
    state = VehicleState(1, Place(index=1), available_at=100, remaining=[("job", 3)])

    solution = reoptimise(problem, [state], new_jobs=[Job(id=9, place=Place(index=2))], cancelled={3}, budget_s=0.5)

    assert visits(solution) == {1: [("job", 9)]}
    assert solution.routes[0].steps[0].arrival == 100
    live = live_problem(problem, [state], [Job(id=9, place=Place(index=2))], {3})
    assert verify(live, solution) == []


def test_broken_vehicle_hands_its_stops_over():
    vehicles = [{"id": v, "start_index": 0, "capacity": [4]} for v in (1, 2)]
    problem = line_problem([{"id": k, "location_index": k, "delivery": [1]} for k in (1, 2, 3, 4)], vehicles)
    states = [
        VehicleState(
            1,
            Place(index=2),
            available_at=200,
            remaining=[("job", 3), ("job", 4)],
            broken_down=True,
        ),
        VehicleState(2, Place(index=1), available_at=100, remaining=[("job", 2)]),
    ]

    solution = reoptimise(problem, states, budget_s=0.5)

    assert visits(solution) == {2: [("job", 2), ("job", 3), ("job", 4)]}
    assert solution.unassigned == []
    assert verify(live_problem(problem, states, [], set()), solution) == []
