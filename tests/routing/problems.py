"""Small hand-made problems on a line: place k sits k × 100 m (and 100 s) from place 0."""

from __future__ import annotations

from routing.problem import Problem, Solution
from routing.verify import verify
from routing.vroom_json import parse_problem

LINE = [[abs(i - j) * 100 for j in range(6)] for i in range(6)]


def line_document(jobs: list[dict], vehicles: list[dict] | None = None, **extra) -> dict:
    """VROOM document over the 6-place line matrix; vehicles default to one at place 0."""
    if vehicles is None:
        vehicles = [{"id": 1, "start_index": 0, "end_index": 0}]
    return {
        "jobs": jobs,
        "vehicles": vehicles,
        "matrices": {"car": {"durations": LINE, "distances": LINE}},
        **extra,
    }


def line_problem(jobs: list[dict], vehicles: list[dict] | None = None, **extra) -> Problem:
    return parse_problem(line_document(jobs, vehicles, **extra))


def visits(solution: Solution) -> dict[int, list[tuple[str, int]]]:
    """Vehicle id → ordered (type, id) of every non-depot step."""
    return {r.vehicle: [(s.type, s.id) for s in r.steps if s.type not in ("start", "end")] for r in solution.routes}


def feasible(problem: Problem, solution: Solution) -> bool:
    """True when the independent verifier finds nothing wrong."""
    issues = verify(problem, solution)
    assert issues == []
    return True
