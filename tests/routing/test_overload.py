"""More mandatory stops than the fleet can carry: serve what fits, report the rest as capacity."""

from routing.problem import Job, Place, Problem, Vehicle
from routing.solver import solve
from routing.verify import verify


def overloaded(engine_budget_s: float) -> tuple[Problem, object]:
    depot = Place(coordinates=(24.9384, 60.1699))
    jobs = [
        Job(id=i, place=Place(coordinates=(24.94 + 0.002 * i, 60.165)), delivery=[1], service_s=120) for i in (1, 2, 3)
    ]
    problem = Problem(jobs=jobs, vehicles=[Vehicle(id=1, start=depot, end=depot, capacity=[2])])
    return problem, solve(problem, budget_s=engine_budget_s, seed=1)


def test_overloaded_vehicle_serves_two_and_reports_capacity_for_the_third():
    problem, solution = overloaded(0.5)

    assert verify(problem, solution) == []
    assert sum(1 for step in solution.routes[0].steps if step.type == "job") == 2
    assert [(u.type, u.reason) for u in solution.unassigned] == [("job", "capacity")]


def test_overload_is_handled_within_a_short_budget():
    _, solution = overloaded(0.2)

    assert len(solution.routes) == 1
    assert len(solution.unassigned) == 1
