"""The one seam between the domain and the engine: duck-typed objects in, plain results out.

Dispatch hands in hubs, vehicles, drivers and orders (anything with the same attribute names:
tests use plain objects); :func:`build_problem` returns a :class:`Built` holding the
``Problem`` plus the bookkeeping needed to read a ``Solution`` back (:func:`read_solution`)
or to time one hand-edited sequence (:func:`time_route`). No queries, no writes, no Django.

Conventions:

* Time is seconds since local midnight of the plan day at the hub (``Built.epoch``), so the
  engine's time-of-day traffic profile lines up with the clock on the wall.
* Ids: job id = order id, vehicle id = vehicle id (one crew per vehicle).
* Capacity dimensions: kg (rounded up), dm³ (m³ × 1000, rounded up) and parcels. A vehicle
  capacity of 0 in a dimension means "not tracked" and becomes unlimited.
* Costs are in cents; the objective decides which cost figures the engine sees.
* String skills (vehicle ∪ driver, and an order's required skills) map to small integers.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from routing.dynamic import InsertionPlan, best_insertion
from routing.model import compile_problem
from routing.problem import Break, Job, Place, Problem, Solution, Unassigned, VehicleCosts
from routing.problem import Route as EngineRoute
from routing.problem import Vehicle as EngineVehicle
from routing.schedule import build_route, place_breaks
from routing.solver import solve
from routing.travel import GreatCircleProvider, TravelProvider
from routing.verify import verify

if TYPE_CHECKING:  # model types only in hints: routing must not import Django or the apps
    from dispatch.models import Driver, Hub, Vehicle
    from orders.models import Order

DIMENSIONS = ("kg", "dm3", "parcels")
UNLIMITED = 10**9
# A shift break may start up to this long after its planned start (drivers stop where they are).
BREAK_FLEX_S = 3600
# Leaving an order out when the plan allows drops costs this much (cents), scaled by priority.
DROP_COST_CENTS = 50_000
OBJECTIVES = ("cost", "distance", "time", "balance")
# Balance: no engine objective exists for it, so routes are capped at this share above the mean.
BALANCE_SLACK = 1.25

REASON_MESSAGES = {
    "capacity": "Too large for every available vehicle (weight, volume or parcels).",
    "time_window": "No vehicle can arrive inside the order's delivery window.",
    "skills": "No available vehicle and driver have the required skills.",
    "shift": "The delivery window does not fit any driver's shift.",
    "range": "Too far for the range of every available vehicle.",
    "max_travel_time": "Too far for the longest allowed route.",
    "dropped_at_cost": "Left out: serving it would cost more than dropping it.",
    "no_vehicle": "No vehicle has room for it together with the other orders.",
    "no_location": "The order has no coordinates (fix its address).",
    "outside_day": "The order's delivery window is not on the plan's day.",
}


@dataclass(frozen=True)
class Crew:
    """A vehicle and the driver who drives it on the plan day (``shift`` from ``shift_on``)."""

    vehicle: Vehicle
    driver: Driver
    shift: dict


@dataclass
class StopResult:
    order_id: int
    sequence: int
    planned_arrival: dt.datetime
    planned_departure: dt.datetime
    lat: float | None = None
    lng: float | None = None


@dataclass
class BreakResult:
    start: dt.datetime
    end: dt.datetime


@dataclass
class RouteResult:
    vehicle_id: int
    driver_id: int | None
    stops: list[StopResult]
    breaks: list[BreakResult]
    start_time: dt.datetime
    end_time: dt.datetime
    distance_m: int
    duration_s: int
    cost: int
    emissions_g: float
    load: dict[str, int]
    violations: list[str] = field(default_factory=list)


@dataclass
class UnassignedResult:
    order_id: int
    reason: str
    message: str


@dataclass
class PlanResult:
    routes: list[RouteResult]
    unassigned: list[UnassignedResult]
    cost: int = 0


@dataclass
class Insertion:
    """The cheapest way to add one stop: the vehicle, the driving it adds, the arrival."""

    vehicle_id: int
    added_minutes: float
    added_km: float
    arrival: dt.datetime


@dataclass
class Built:
    """A problem and what is needed to read its answers back."""

    problem: Problem
    epoch: dt.datetime
    crews: dict[int, Crew]
    orders: dict[int, Any]
    skills: dict[str, int]
    rejected: list[UnassignedResult] = field(default_factory=list)
    provider: TravelProvider = field(default_factory=GreatCircleProvider)

    def at(self, seconds: int) -> dt.datetime:
        return self.epoch + dt.timedelta(seconds=int(seconds))

    def seconds(self, moment: dt.datetime) -> int:
        return int((moment - self.epoch).total_seconds())


def _hhmm(value: str) -> int:
    hours, minutes = str(value).split(":")[:2]
    return int(hours) * 3600 + int(minutes) * 60


def _moment(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def skill_codes(names: Iterable[str]) -> dict[str, int]:
    """Stable small integers for skill names (sorted, from 1)."""
    return {name: i for i, name in enumerate(sorted(set(names)), start=1)}


def order_amounts(order: Order) -> list[int]:
    """[kg, dm³, parcels] an order takes up (rounded up)."""
    return _amounts(order.load_kg, order.load_m3, order.load_parcels)


def _amounts(kg: Any, m3: Any, parcels: Any) -> list[int]:
    return [math.ceil(float(kg or 0) - 1e-9), math.ceil(float(m3 or 0) * 1000 - 1e-9), int(parcels or 0)]


def vehicle_capacity(vehicle: Vehicle) -> list[int]:
    """[kg, dm³, parcels] a vehicle carries; 0 (not set) means unlimited."""
    raw = [math.floor(float(vehicle.capacity_kg or 0)), math.floor(float(vehicle.capacity_m3 or 0) * 1000)]
    raw.append(int(vehicle.capacity_parcels or 0))
    return [value if value > 0 else UNLIMITED for value in raw]


def _costs(vehicle: Vehicle, objective: str) -> VehicleCosts:
    if objective == "distance":
        return VehicleCosts(fixed=0, per_hour=0, per_km=1000)
    if objective in ("time", "balance"):
        return VehicleCosts(fixed=0, per_hour=3600, per_km=0)
    per_km = round(float(vehicle.cost_per_km or 0) * 100)
    per_hour = round(float(vehicle.cost_per_hour or 0) * 100)
    if not per_km and not per_hour:
        per_hour = 3600  # a vehicle without costs still prefers short routes
    return VehicleCosts(fixed=round(float(vehicle.cost_fixed_per_day or 0) * 100), per_hour=per_hour, per_km=per_km)


def _engine_vehicle(crew: Crew, hub: Hub, skills: dict[str, int], objective: str, max_tasks: int | None):
    vehicle, shift = crew.vehicle, crew.shift
    start, end = _hhmm(shift["start"]), _hhmm(shift["end"])
    breaks = []
    for k, brk in enumerate(shift.get("breaks") or []):
        b_start, b_end = _hhmm(brk["start"]), _hhmm(brk["end"])
        breaks.append(Break(id=k + 1, time_windows=[(b_start, b_start + BREAK_FLEX_S)], service_s=b_end - b_start))
    names = set(vehicle.skills or []) | set(getattr(crew.driver, "skills", None) or [])
    depot = Place(coordinates=(float(hub.lng), float(hub.lat)))
    return EngineVehicle(
        id=int(vehicle.pk),
        start=depot,
        end=depot,
        profile=str(getattr(vehicle, "type", "car") or "car"),
        capacity=vehicle_capacity(vehicle),
        skills=frozenset(skills[name] for name in names if name in skills),
        time_window=(start, end),
        breaks=breaks,
        costs=_costs(vehicle, objective),
        max_distance_m=None if vehicle.range_km is None else int(float(vehicle.range_km) * 1000),
        max_tasks=max_tasks,
        description=str(vehicle.name),
    )


def _windows(order: Order, built_epoch: dt.datetime) -> list[tuple[int, int]] | None:
    """Windows in plan seconds, clipped to the day; None when none falls on the day."""
    raw = list(order.time_windows or [])
    if not raw:
        return []
    out = []
    for window in raw:
        start = int((_moment(window["start"]) - built_epoch).total_seconds())
        end = int((_moment(window["end"]) - built_epoch).total_seconds())
        if end < 0 or start > 2 * 86400:
            continue
        out.append((max(0, start), end))
    return sorted(out) or None


def _job(order: Order, epoch: dt.datetime, skills: dict[str, int], allow_drop: bool) -> Job | str:
    if order.lat is None or order.lng is None:
        return "no_location"
    windows = _windows(order, epoch)
    if windows is None:
        return "outside_day"
    priority = max(0, min(100, int(order.priority or 0)))
    return Job(
        id=int(order.pk),
        place=Place(coordinates=(float(order.lng), float(order.lat))),
        service_s=round(float(order.service_minutes or 0) * 60),
        delivery=order_amounts(order),
        skills=frozenset(skills[name] for name in (order.required_skills or [])),
        priority=priority,
        time_windows=windows,
        drop_cost=DROP_COST_CENTS * (100 + priority) // 100 if allow_drop else None,
        description=str(getattr(order, "merchant_reference", "")),
    )


def build_problem(
    *,
    hub: Hub,
    day: dt.date,
    crews: Sequence[Crew],
    orders: Sequence[Order],
    objective: str = "cost",
    allow_drop: bool = False,
    pinned: dict[int, int] | None = None,
    provider: TravelProvider | None = None,
) -> Built:
    """The routing problem of one hub and day.

    ``pinned`` maps order id → vehicle id for stops that must stay on that vehicle (locked
    stops): they get a vehicle-only skill, the way ``routing.dynamic`` pins live stops.
    Orders that cannot be expressed (no coordinates, no window on the day) are listed in
    ``Built.rejected`` instead of the problem.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}")
    epoch = dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(str(hub.timezone)))
    names = {s for o in orders for s in (o.required_skills or [])}
    names |= {s for c in crews for s in [*(c.vehicle.skills or []), *(getattr(c.driver, "skills", None) or [])]}
    skills = skill_codes(names)
    jobs, rejected = [], []
    for order in orders:
        job = _job(order, epoch, skills, allow_drop)
        if isinstance(job, str):
            rejected.append(UnassignedResult(int(order.pk), job, REASON_MESSAGES[job]))
        else:
            jobs.append(job)
    max_tasks = None
    if objective == "balance" and crews and jobs:
        max_tasks = max(1, math.ceil(len(jobs) / len(crews) * BALANCE_SLACK))
    vehicles = [_engine_vehicle(c, hub, skills, objective, max_tasks) for c in crews]
    pins = {order_id: vehicle_id for order_id, vehicle_id in (pinned or {}).items()}
    if pins:
        # Negative skills never clash with the positive codes of named skills.
        pin_skill = {v.id: -(k + 1) for k, v in enumerate(vehicles)}
        vehicles = [replace(v, skills=v.skills | {pin_skill[v.id]}) for v in vehicles]
        jobs = [
            replace(j, skills=j.skills | {pin_skill[pins[j.id]]}) if pins.get(j.id) in pin_skill else j for j in jobs
        ]
    return Built(
        problem=Problem(jobs=jobs, vehicles=vehicles),
        epoch=epoch,
        crews={int(c.vehicle.pk): c for c in crews},
        orders={int(o.pk): o for o in orders},
        skills=skills,
        rejected=rejected,
        provider=provider or GreatCircleProvider(),
    )


def _route_result(built: Built, route: EngineRoute) -> RouteResult:
    crew = built.crews[route.vehicle]
    stops, breaks = [], []
    for step in route.steps:
        if step.type == "job":
            departure = step.arrival + step.waiting_time + step.setup + step.service
            order = built.orders[step.id]
            stops.append(
                StopResult(
                    order_id=step.id,
                    sequence=len(stops) + 1,
                    planned_arrival=built.at(step.arrival + step.waiting_time),
                    planned_departure=built.at(departure),
                    lat=order.lat,
                    lng=order.lng,
                )
            )
        elif step.type == "break":
            begin = step.arrival + step.waiting_time
            breaks.append(BreakResult(built.at(begin), built.at(begin + step.service)))
    last = route.steps[-1]
    emissions = route.distance / 1000 * float(getattr(crew.vehicle, "emissions_g_co2_per_km", 0) or 0)
    load = [0] * len(DIMENSIONS)
    for stop in stops:
        for d, amount in enumerate(order_amounts(built.orders[stop.order_id])):
            load[d] += amount
    return RouteResult(
        vehicle_id=route.vehicle,
        driver_id=getattr(crew.driver, "pk", None),
        stops=stops,
        breaks=breaks,
        start_time=built.at(route.steps[0].arrival),
        end_time=built.at(last.arrival + last.waiting_time + last.service),
        distance_m=int(route.distance),
        duration_s=int(last.arrival - route.steps[0].arrival + last.service),
        cost=int(route.cost),
        emissions_g=round(emissions, 1),
        load=dict(zip(DIMENSIONS, load, strict=True)),
    )


def _unassigned(item: Unassigned) -> UnassignedResult:
    return UnassignedResult(item.id, item.reason, REASON_MESSAGES.get(item.reason, item.reason))


def optimize(built: Built, **kwargs: Any) -> PlanResult:
    """Solve with ``routing.solver.solve`` (same keyword arguments) and read the answer back."""
    solution = solve(built.problem, provider=built.provider, **kwargs)
    return read_solution(built, solution)


def read_solution(built: Built, solution: Solution) -> PlanResult:
    """Plain results: timed routes (stops numbered from 1) and unassigned orders with reasons."""
    routes = [_route_result(built, r) for r in solution.routes if any(s.type == "job" for s in r.steps)]
    unassigned = [*built.rejected, *(_unassigned(u) for u in solution.unassigned)]
    return PlanResult(routes=routes, unassigned=unassigned, cost=sum(r.cost for r in routes))


def time_route(built: Built, vehicle_id: int, order_ids: Sequence[int]) -> RouteResult:
    """Time a hand-made sequence on one vehicle and list what it violates.

    Breaks are placed by the engine's schedule code; the violations come from the engine's
    independent verifier (capacity per dimension, windows, shift end, breaks, range).
    """
    vehicle = next(v for v in built.problem.vehicles if v.id == vehicle_id)
    by_id = {j.id: j for j in built.problem.jobs}
    missing = [i for i in order_ids if i not in by_id]
    if missing:
        raise KeyError(f"orders {missing} are not in the problem")
    # Hand edits may cross pins and skills on purpose: the verifier reports what matters.
    jobs = [replace(by_id[i], skills=frozenset()) for i in order_ids]
    single = Problem(jobs=jobs, vehicles=[replace(vehicle, skills=frozenset(), max_tasks=None)])
    model = compile_problem(single, built.provider)
    sequence = list(range(len(jobs)))
    if model.vehicles[0].breaks and sequence:
        sequence = place_breaks(model, 0, sequence)
    route = build_route(model, 0, sequence)
    result = _empty_route(built, vehicle) if not jobs else _route_result(built, route)
    result.violations = verify(single, Solution(routes=[route] if jobs else []), built.provider)
    result.violations += _skill_violations(built, vehicle, [by_id[i] for i in order_ids])
    return result


def _skill_violations(built: Built, vehicle: EngineVehicle, jobs: list[Job]) -> list[str]:
    names = {code: name for name, code in built.skills.items()}
    out = []
    for job in jobs:
        lacking = sorted(names[s] for s in job.skills if s > 0 and s not in vehicle.skills)
        if lacking:
            out.append(f"vehicle {vehicle.id}: job {job.id} needs skills {', '.join(lacking)}")
    return out


def _empty_route(built: Built, vehicle: EngineVehicle) -> RouteResult:
    start = (vehicle.time_window or (0, 0))[0]
    return RouteResult(
        vehicle_id=vehicle.id,
        driver_id=getattr(built.crews[vehicle.id].driver, "pk", None),
        stops=[],
        breaks=[],
        start_time=built.at(start),
        end_time=built.at(start),
        distance_m=0,
        duration_s=0,
        cost=0,
        emissions_g=0.0,
        load=dict.fromkeys(DIMENSIONS, 0),
    )


def cheapest_insertion(
    built: Built,
    plan: InsertionPlan,
    *,
    lat: float,
    lng: float,
    start: dt.datetime,
    end: dt.datetime,
    load: dict,
    service_minutes: float,
) -> Insertion | None:
    """The cheapest way to add a stop at (lat, lng) served inside [start, end], or None.

    ``plan`` holds committed routes of ``built`` (:func:`routing.committed_routes`), and
    ``built`` must use the time objective: the added cost is then added driving seconds,
    reported in minutes and, at the vehicle profile's speed, in km. ``load`` has ``kg``,
    ``m3`` and ``parcels`` (1 when absent).
    """
    job = Job(
        id=0,
        place=Place(coordinates=(float(lng), float(lat))),
        service_s=round(service_minutes * 60),
        delivery=_amounts(load.get("kg", 0), load.get("m3", 0), load.get("parcels", 1)),
        time_windows=[(built.seconds(start), built.seconds(end))],
    )
    candidates = best_insertion(plan, job)
    if not candidates:
        return None
    best = candidates[0]
    profile = next(v.profile for v in built.problem.vehicles if v.id == best.vehicle)
    added_s = max(0.0, best.added_cost)
    speed_ms = getattr(built.provider, "speed_ms", GreatCircleProvider().speed_ms)(profile)
    return Insertion(best.vehicle, round(added_s / 60, 1), round(added_s * speed_ms / 1000, 2), built.at(best.arrival))
