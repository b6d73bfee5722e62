"""VROOM input parsing, field-level validation errors and the VROOM output shape."""

from __future__ import annotations

import copy

import pytest

from routing.errors import ProblemValidationError
from routing.solver import solve
from routing.vroom_json import format_solution, parse_problem
from tests.routing.problems import line_document

VALID = line_document(
    [
        {"id": 1, "location_index": 1, "delivery": [2], "time_windows": [[0, 900]]},
        {"id": 2, "location_index": 2, "delivery": [1]},
    ],
    [{"id": 7, "start_index": 0, "end_index": 0, "capacity": [5]}],
    shipments=[
        {
            "amount": [1],
            "pickup": {"id": 3, "location_index": 3},
            "delivery": {"id": 4, "location_index": 4},
        }
    ],
)


def _broken(change) -> dict:
    doc = copy.deepcopy(VALID)
    change(doc)
    return doc


CASES = [
    ("duplicate job id", lambda d: d["jobs"][1].update(id=1), "jobs[1].id", "duplicate id 1"),
    (
        "window ends first",
        lambda d: d["jobs"][0].update(time_windows=[[900, 10]]),
        "jobs[0].time_windows[0]",
        "window ends before it starts",
    ),
    (
        "negative capacity",
        lambda d: d["vehicles"][0].update(capacity=[-5]),
        "vehicles[0].capacity[0]",
        "must not be negative",
    ),
    (
        "negative amount",
        lambda d: d["jobs"][0].update(delivery=[-1]),
        "jobs[0].delivery[0]",
        "must not be negative",
    ),
    (
        "amount length",
        lambda d: d["jobs"][1].update(delivery=[1, 2]),
        "jobs[1].delivery",
        "has 2 dimensions, capacity has 1",
    ),
    (
        "location out of range",
        lambda d: d["jobs"][0].update(location_index=9),
        "jobs[0].location_index",
        "location_index 9 out of range for a 6×6 matrix",
    ),
    (
        "non-square matrix",
        lambda d: d["matrices"]["car"]["durations"].pop(),
        "matrices.car.durations",
        "matrix is not square (5 rows)",
    ),
    (
        "shipment without delivery",
        lambda d: d["shipments"][0].pop("delivery"),
        "shipments[0].delivery",
        "is required",
    ),
    (
        "unknown id type",
        lambda d: d["vehicles"][0].update(id="seven"),
        "vehicles[0].id",
        "must be an integer",
    ),
    (
        "no location",
        lambda d: d["jobs"][0].pop("location_index"),
        "jobs[0].location",
        "needs a location_index (matrices given for 'car')",
    ),
]


@pytest.mark.parametrize(("change", "path", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_invalid_document_names_the_field(change, path, message):
    with pytest.raises(ProblemValidationError) as caught:
        parse_problem(_broken(change))

    assert caught.value.errors[path] == [message]


def test_no_location_error_names_the_field_when_matrices_are_missing():
    doc = _broken(lambda d: d.pop("matrices"))

    with pytest.raises(ProblemValidationError) as caught:
        parse_problem(doc)

    assert caught.value.errors["jobs[0].location_index"] == ["needs a location (no matrix for profile 'car')"]


def test_output_follows_vroom_format_with_extensions():
    solution = solve(parse_problem(VALID), budget_s=0.3)

    out = format_solution(solution)

    assert out["code"] == 0
    assert out["summary"]["routes"] == 1
    assert out["summary"]["unassigned"] == 0
    assert out["summary"]["delivery"] == [4]
    assert out["summary"]["cost"] == out["routes"][0]["cost"] == 800
    route = out["routes"][0]
    assert [s["type"] for s in route["steps"]][0] == "start"
    assert sorted((s["type"], s.get("id")) for s in route["steps"][1:-1]) == [
        ("delivery", 4),
        ("job", 1),
        ("job", 2),
        ("pickup", 3),
    ]
    assert set(route["steps"][1]) >= {
        "type",
        "id",
        "location_index",
        "arrival",
        "duration",
        "distance",
        "load",
        "service",
        "waiting_time",
        "lateness",
    }
    assert route["cost_breakdown"] == {"fixed": 0, "travel": 800, "lateness": 0, "overtime": 0}


def test_unassigned_tasks_carry_a_reason():
    doc = _broken(lambda d: d["jobs"][0].update(skills=[3]))

    out = format_solution(solve(parse_problem(doc), budget_s=0.2))

    assert out["unassigned"] == [{"id": 1, "type": "job", "reason": "skills", "location_index": 1}]
