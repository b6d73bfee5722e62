"""Read VROOM's input JSON into a :class:`Problem`; write a :class:`Solution` as VROOM output.

Input follows VROOM's API.md (``jobs``, ``shipments``, ``vehicles``, ``matrices``).
Extensions on jobs and shipment steps: ``soft_time_window`` [start, end] with
``lateness_cost`` (per hour late) and, on jobs and shipments, ``drop_cost`` (optional
task). On vehicles: ``max_overtime`` (s) and ``overtime_cost`` (per hour). Output adds
``reason`` to unassigned tasks, ``lateness`` to steps and routes, ``cost_breakdown`` to
routes and ``engine`` to the summary. Times are seconds, distances metres.
"""

from __future__ import annotations

from typing import Any

from routing.errors import ProblemValidationError
from routing.problem import (
    Break,
    Job,
    Matrices,
    Place,
    Problem,
    Shipment,
    ShipmentStep,
    Solution,
    Vehicle,
    VehicleCosts,
)
from routing.validation import Checker, validate_problem


def parse_problem(document: dict[str, Any]) -> Problem:
    """Parse and validate a VROOM input document; raises :class:`ProblemValidationError`.

    Units as VROOM's: times and durations in seconds, distances in metres, coordinates
    ``[lon, lat]`` in degrees, costs per hour and per km in the document's cost unit.
    """
    check = Checker()
    if not isinstance(document, dict):
        raise ProblemValidationError({"$": ["document must be a JSON object"]})
    problem = Problem(
        jobs=[_job(check, f"jobs[{k}]", j) for k, j in enumerate(_list(check, document, "jobs"))],
        shipments=[_shipment(check, f"shipments[{k}]", s) for k, s in enumerate(_list(check, document, "shipments"))],
        vehicles=[_vehicle(check, f"vehicles[{k}]", v) for k, v in enumerate(_list(check, document, "vehicles"))],
        matrices=_matrices(check, document),
    )
    check.raise_if_any()
    validate_problem(problem)
    return problem


def _list(check: Checker, doc: dict, key: str) -> list:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(x, dict) for x in value):
        check.add(key, "must be a list of objects")
        return []
    return value


def _place(check: Checker, path: str, obj: dict, coord_key: str, index_key: str):
    coords = obj.get(coord_key)
    index = obj.get(index_key)
    if coords is None and index is None:
        return None
    if coords is not None:
        ok = isinstance(coords, list) and len(coords) == 2
        if not ok or not all(isinstance(c, int | float) for c in coords):
            check.add(f"{path}.{coord_key}", "must be [lon, lat]")
            coords = None
        elif not (-180 <= coords[0] <= 180 and -90 <= coords[1] <= 90):
            check.add(f"{path}.{coord_key}", "longitude or latitude out of range")
    if index is not None:
        index = check.integer(f"{path}.{index_key}", index)
    return Place(index, tuple(coords) if coords is not None else None)


def _windows(check: Checker, path: str, value) -> list[tuple[int, int]]:
    if value is None:
        return []
    if not isinstance(value, list):
        check.add(path, "must be a list of [start, end] pairs")
        return []
    return [w for k, x in enumerate(value) if (w := check.window(f"{path}[{k}]", x))]


def _amounts(check: Checker, path: str, value) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list):
        check.add(path, "must be a list of integers")
        return []
    return [check.integer(f"{path}[{k}]", x) for k, x in enumerate(value)]


def _skills(check: Checker, path: str, value) -> frozenset[int]:
    return frozenset(_amounts(check, path, value))


def _soft(check: Checker, path: str, obj: dict):
    soft = obj.get("soft_time_window")
    return None if soft is None else check.window(f"{path}.soft_time_window", soft)


def _job(check: Checker, path: str, obj: dict) -> Job:
    return Job(
        id=check.integer(f"{path}.id", obj.get("id")),
        place=_place(check, path, obj, "location", "location_index") or Place(),
        service_s=check.integer(f"{path}.service", obj.get("service", 0)),
        setup_s=check.integer(f"{path}.setup", obj.get("setup", 0)),
        delivery=_amounts(check, f"{path}.delivery", obj.get("delivery", obj.get("amount"))),
        pickup=_amounts(check, f"{path}.pickup", obj.get("pickup")),
        skills=_skills(check, f"{path}.skills", obj.get("skills")),
        priority=check.integer(f"{path}.priority", obj.get("priority", 0)),
        time_windows=_windows(check, f"{path}.time_windows", obj.get("time_windows")),
        soft_window=_soft(check, path, obj),
        lateness_cost_per_hour=check.integer(f"{path}.lateness_cost", obj.get("lateness_cost", 0)),
        drop_cost=_optional_int(check, f"{path}.drop_cost", obj.get("drop_cost")),
        description=str(obj.get("description", "")),
    )


def _optional_int(check: Checker, path: str, value) -> int | None:
    return None if value is None else check.integer(path, value)


def _step(check: Checker, path: str, obj) -> ShipmentStep | None:
    if not isinstance(obj, dict):
        check.add(path, "is required" if obj is None else "must be an object")
        return None
    return ShipmentStep(
        id=check.integer(f"{path}.id", obj.get("id")),
        place=_place(check, path, obj, "location", "location_index") or Place(),
        service_s=check.integer(f"{path}.service", obj.get("service", 0)),
        setup_s=check.integer(f"{path}.setup", obj.get("setup", 0)),
        time_windows=_windows(check, f"{path}.time_windows", obj.get("time_windows")),
        soft_window=_soft(check, path, obj),
        lateness_cost_per_hour=check.integer(f"{path}.lateness_cost", obj.get("lateness_cost", 0)),
        description=str(obj.get("description", "")),
    )


def _shipment(check: Checker, path: str, obj: dict) -> Shipment:
    pickup = _step(check, f"{path}.pickup", obj.get("pickup"))
    delivery = _step(check, f"{path}.delivery", obj.get("delivery"))
    return Shipment(
        pickup=pickup or ShipmentStep(0, Place()),
        delivery=delivery or ShipmentStep(0, Place()),
        amount=_amounts(check, f"{path}.amount", obj.get("amount")),
        skills=_skills(check, f"{path}.skills", obj.get("skills")),
        priority=check.integer(f"{path}.priority", obj.get("priority", 0)),
        drop_cost=_optional_int(check, f"{path}.drop_cost", obj.get("drop_cost")),
    )


def _vehicle(check: Checker, path: str, obj: dict) -> Vehicle:
    costs = obj.get("costs") or {}
    breaks = obj.get("breaks") or []
    if not isinstance(breaks, list):
        check.add(f"{path}.breaks", "must be a list")
        breaks = []
    return Vehicle(
        id=check.integer(f"{path}.id", obj.get("id")),
        start=_place(check, path, obj, "start", "start_index"),
        end=_place(check, path, obj, "end", "end_index"),
        profile=str(obj.get("profile", "car")),
        capacity=_amounts(check, f"{path}.capacity", obj.get("capacity")),
        skills=_skills(check, f"{path}.skills", obj.get("skills")),
        time_window=(
            check.window(f"{path}.time_window", obj["time_window"]) if obj.get("time_window") is not None else None
        ),
        breaks=[_break(check, f"{path}.breaks[{k}]", b) for k, b in enumerate(breaks)],
        costs=VehicleCosts(
            fixed=check.integer(f"{path}.costs.fixed", costs.get("fixed", 0)),
            per_hour=check.integer(f"{path}.costs.per_hour", costs.get("per_hour", 3600)),
            per_km=check.integer(f"{path}.costs.per_km", costs.get("per_km", 0)),
        ),
        speed_factor=check.number(f"{path}.speed_factor", obj.get("speed_factor", 1.0)),
        max_tasks=_optional_int(check, f"{path}.max_tasks", obj.get("max_tasks")),
        max_travel_time_s=_optional_int(check, f"{path}.max_travel_time", obj.get("max_travel_time")),
        max_distance_m=_optional_int(check, f"{path}.max_distance", obj.get("max_distance")),
        max_overtime_s=check.integer(f"{path}.max_overtime", obj.get("max_overtime", 0)),
        overtime_cost_per_hour=check.integer(f"{path}.overtime_cost", obj.get("overtime_cost", 0)),
        description=str(obj.get("description", "")),
    )


def _break(check: Checker, path: str, obj) -> Break:
    if not isinstance(obj, dict):
        check.add(path, "must be an object")
        return Break(0)
    return Break(
        id=check.integer(f"{path}.id", obj.get("id")),
        time_windows=_windows(check, f"{path}.time_windows", obj.get("time_windows")),
        service_s=check.integer(f"{path}.service", obj.get("service", 0)),
        description=str(obj.get("description", "")),
    )


def _matrices(check: Checker, doc: dict) -> dict[str, Matrices]:
    out: dict[str, Matrices] = {}
    if doc.get("matrix") is not None:  # VROOM's legacy single duration matrix
        out["car"] = Matrices(durations=check.matrix("matrix", doc["matrix"]))
    given = doc.get("matrices") or {}
    if not isinstance(given, dict):
        check.add("matrices", "must be an object keyed by profile")
        return out
    for profile, mats in given.items():
        if not isinstance(mats, dict):
            check.add(f"matrices.{profile}", "must be an object")
            continue
        out[profile] = Matrices(
            *(check.matrix(f"matrices.{profile}.{k}", mats.get(k)) for k in ("durations", "distances", "costs"))
        )
    return out


def format_solution(solution: Solution) -> dict[str, Any]:
    """VROOM output document (code 0) with the extensions listed in the module docstring.

    Times in seconds, distances in metres, costs in the vehicles' cost unit.
    """
    routes = [_route_json(r) for r in solution.routes]
    dims = max((len(r.delivery) for r in solution.routes), default=0)
    summary = {
        "cost": solution.cost,
        "routes": len(routes),
        "unassigned": len(solution.unassigned),
        "delivery": [sum(r.delivery[k] for r in solution.routes) for k in range(dims)],
        "pickup": [sum(r.pickup[k] for r in solution.routes) for k in range(dims)],
        "setup": sum(r["setup"] for r in routes),
        "service": sum(r.service for r in solution.routes),
        "duration": sum(r.duration for r in solution.routes),
        "waiting_time": sum(r.waiting_time for r in solution.routes),
        "distance": sum(r.distance for r in solution.routes),
        "lateness": sum(r.lateness for r in solution.routes),
        "computing_times": {
            "loading": round(solution.loading_seconds * 1000),
            "solving": round(solution.solve_seconds * 1000),
        },
        "engine": solution.engine,
    }
    unassigned = [
        {
            k: v
            for k, v in (
                ("id", u.id),
                ("type", u.type),
                ("reason", u.reason),
                ("location", _coords(u.location)),
                ("location_index", u.location_index),
            )
            if v is not None
        }
        for u in solution.unassigned
    ]
    return {"code": 0, "summary": summary, "unassigned": unassigned, "routes": routes}


def _coords(value) -> list[float] | None:
    return list(value) if value is not None else None


def _route_json(route) -> dict[str, Any]:
    steps = []
    for s in route.steps:
        step = {"type": s.type}
        if s.type not in ("start", "end"):
            step["id"] = s.id
        if s.location is not None:
            step["location"] = list(s.location)
        if s.location_index is not None:
            step["location_index"] = s.location_index
        step.update(
            setup=s.setup,
            service=s.service,
            waiting_time=s.waiting_time,
            load=s.load,
            arrival=s.arrival,
            duration=s.duration,
            distance=s.distance,
            lateness=s.lateness,
        )
        steps.append(step)
    return {
        "vehicle": route.vehicle,
        "cost": route.cost,
        "cost_breakdown": route.cost_breakdown,
        "delivery": route.delivery,
        "pickup": route.pickup,
        "setup": sum(s.setup for s in route.steps),
        "service": route.service - sum(s.setup for s in route.steps),
        "duration": route.duration,
        "waiting_time": route.waiting_time,
        "distance": route.distance,
        "lateness": route.lateness,
        "overtime": route.overtime,
        "steps": steps,
    }
