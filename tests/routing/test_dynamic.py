"""Cheapest insertion into committed routes and live re-optimisation."""

from __future__ import annotations

from routing.dynamic import (
    InsertionPlan,
    VehicleState,
    best_insertion,
    committed_routes,
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


def test_committed_routes_keep_the_given_order_and_insert_the_rest():
    """Stops 3 then 1 stay as given (unknown id 99 skipped); 2 goes in where it adds nothing
    (before 3), and 5 (load 5 on a van of 3) fits nowhere."""
    vehicles = [{"id": 1, "start_index": 0, "end_index": 0, "capacity": [3], "time_window": [0, 2000]}]
    jobs = [{"id": i, "location_index": i, "delivery": [1]} for i in (1, 2, 3)]
    problem = line_problem([*jobs, {"id": 5, "location_index": 5, "delivery": [5]}], vehicles)

    routes = committed_routes(problem, start={1: [3, 99, 1]})

    assert (routes.sequences, routes.unrouted) == ({1: [2, 3, 1]}, [5])
    assert routes.timed == {1: [("job", 2), ("job", 3), ("job", 1)]}
    assert best_insertion(routes.plan, Job(id=9, place=Place(index=4), delivery=[1])) == []  # the van is full


def test_committed_routes_start_a_route_over_when_it_no_longer_holds():
    """Given 3 then 1, stop 1 (window until 150 s) is reached at 500 s: kept only when asked."""
    jobs = [
        {"id": 1, "location_index": 1, "time_windows": [[0, 150]]},
        {"id": 3, "location_index": 3, "time_windows": [[0, 350]]},
    ]
    problem = line_problem(jobs)

    kept = committed_routes(problem, start={1: [3, 1]})
    checked = committed_routes(problem, start={1: [3, 1]}, keep_start=False)

    assert (kept.sequences, checked.sequences) == ({1: [3, 1]}, {1: [1, 3]})


def test_committed_routes_without_vehicles_leave_every_stop_unrouted():
    problem = line_problem([{"id": 1, "location_index": 1}, {"id": 2, "location_index": 2}], [])

    routes = committed_routes(problem)

    assert (routes.plan, routes.sequences, routes.timed, routes.unrouted) == (None, {}, {}, [1, 2])


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
