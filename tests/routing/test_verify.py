"""The verifier catches tampered solutions."""

from __future__ import annotations

import copy

from routing.solver import solve
from routing.verify import verify
from tests.routing.problems import line_problem


def _solved():
    vehicles = [{"id": 1, "start_index": 0, "end_index": 0, "capacity": [4]}]
    problem = line_problem(
        [
            {"id": 1, "location_index": 1, "delivery": [2], "time_windows": [[0, 150]]},
            {"id": 2, "location_index": 3, "delivery": [2]},
        ],
        vehicles,
    )
    return problem, solve(problem, budget_s=0.2)


def test_a_solver_solution_is_clean():
    problem, solution = _solved()

    assert verify(problem, solution) == []


def test_overload_and_wrong_figures_are_reported():
    problem, solution = _solved()
    problem.vehicles[0].capacity = [3]

    issues = verify(problem, solution)

    assert issues == ["vehicle 1: load [4] exceeds capacity [3] at start"]


def test_missing_job_and_wrong_arrival_are_reported():
    problem, solution = _solved()
    tampered = copy.deepcopy(solution)
    route = tampered.routes[0]
    route.steps[1].arrival += 5
    del route.steps[2]

    issues = verify(problem, tampered)

    assert "vehicle 1 step 1 arrival: solution says 105, recomputed 100" in issues
    assert "job 2 neither served nor unassigned" in issues


def test_late_window_is_reported():
    problem, solution = _solved()
    problem.jobs[0].time_windows = [(0, 50)]

    issues = verify(problem, solution)

    assert any("job 1 starts at 100, outside [(0, 50)]" in i for i in issues)
