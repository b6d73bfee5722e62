"""Committed stops of one hub and day as routes, ready for the engine's fast insertion check.

Availability asks "could one more stop in this window still be served?" without a search:
`routing.dynamic.best_insertion` against routes built from what is committed (orders and active
holds). The routes come from the day's active plans when there are some (their stop order is
kept), otherwise from a cheap greedy construction; stops not yet on a route are inserted
greedily. The result is cached per process by hub and day and rebuilt when its fingerprint
(committed orders, active holds, crews, plans) changes; a rebuild reuses the previous stop order,
so only the new stops are inserted.

No queries here: the selectors hand in plain rows.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from routing.adapter import Built, Crew, build_problem, order_amounts
from routing.dynamic import InsertionPlan, best_insertion, greedy_insert
from routing.insertion import route_gaps
from routing.problem import Job, Place, Solution
from routing.schedule import build_route, place_breaks
from routing.travel import GreatCircleProvider

# A 500-stop day keeps its ~550 × 550 travel matrices twice (the model's int64 and the provider's
# int32 copy): ≈ 7 MB per vehicle profile, so 16 days stay near 100–200 MB at worst.
CACHE_SIZE = 16


class ReusingProvider(GreatCircleProvider):
    """Offline matrices that reuse the previous answer's cells for points seen before.

    A rebuild after one more hold asks for almost the same 500+ points again: only the rows and
    columns of new points are computed (the full matrix costs ~25 ms for 550 points).
    """

    def __init__(self) -> None:
        super().__init__(cache_size=0)
        self._last: dict[str, tuple[dict, np.ndarray, np.ndarray]] = {}

    def matrices(self, points, profile: str):
        keys = [tuple(point) for point in points]
        result = self._reuse(keys, points, profile)
        if result is None:
            result = super().matrices(points, profile)
        self._last[profile] = ({key: i for i, key in enumerate(keys)}, *result)
        return result

    def _reuse(self, keys, points, profile):
        last = self._last.get(profile)
        if last is None:
            return None
        index, old_dur, old_dist = last
        old = np.array([index.get(key, -1) for key in keys], dtype=np.int64)
        known = np.nonzero(old >= 0)[0]
        if len(known) < len(keys) // 2:
            return None
        size = len(keys)
        dur, dist = np.empty((size, size), dtype=np.int32), np.empty((size, size), dtype=np.int32)
        dur[np.ix_(known, known)] = old_dur[np.ix_(old[known], old[known])]
        dist[np.ix_(known, known)] = old_dist[np.ix_(old[known], old[known])]
        for j in np.nonzero(old < 0)[0]:
            seconds, metres = self.row(points[j], points, profile)  # great circles are symmetric
            dur[j, :], dur[:, j], dist[j, :], dist[:, j] = seconds, seconds, metres, metres
        return dur, dist


@dataclass
class StopRow:
    """A committed stop as the adapter reads an order: an order row, or an active hold (negative id)."""

    ORDER_FIELDS: ClassVar[tuple[str, ...]] = (
        "pk",
        "lat",
        "lng",
        "time_windows",
        "service_minutes",
        "load_kg",
        "load_m3",
        "load_parcels",
        "required_skills",
        "priority",
        "merchant_reference",
    )

    pk: int
    lat: float
    lng: float
    time_windows: list[dict]
    service_minutes: float
    load_kg: float
    load_m3: float
    load_parcels: int
    required_skills: list = field(default_factory=list)
    priority: int = 0
    merchant_reference: str = ""


@dataclass
class DayRoutes:
    """The committed routes of one hub and day, and the stop order they were built with."""

    fingerprint: tuple
    built: Built
    plan: InsertionPlan | None
    sequences: dict[int, list[int]]  # vehicle id -> job ids in order
    unrouted: list[int]  # committed job ids no route could take
    crews_key: tuple = ()
    timed: dict[int, list[tuple[str, int]]] = field(default_factory=dict)  # with ("break", k) items
    provider: GreatCircleProvider = field(default_factory=GreatCircleProvider)


@dataclass
class Insertion:
    vehicle_id: int
    added_minutes: float
    added_km: float
    arrival: dt.datetime


_cache: OrderedDict[tuple[int, dt.date], DayRoutes] = OrderedDict()
_lock = threading.Lock()


def day_routes(
    *,
    hub,
    day: dt.date,
    crews: list[Crew],
    load: Callable[[], tuple[list[Any], dict[int, list[int]]]],
    fingerprint: tuple,
) -> DayRoutes:
    """Cached routes of `hub` on `day`; rebuilt only when `fingerprint` changed.

    `load()` returns the committed stops (orders and `StopRow`s) and the active plans' stop
    order by vehicle id; it runs only on a rebuild.
    """
    key = (hub.pk, day)
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached.fingerprint == fingerprint:
            _cache.move_to_end(key)
            return cached
    stops, plan_sequences = load()
    routes = _build(hub, day, crews, stops, plan_sequences, fingerprint, cached)
    with _lock:
        _cache[key] = routes
        _cache.move_to_end(key)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return routes


def cache_clear() -> None:
    with _lock:
        _cache.clear()


def _build(hub, day, crews, stops, plan_sequences, fingerprint, previous: DayRoutes | None) -> DayRoutes:
    # Time objective: every vehicle costs one unit per second, so an insertion's added cost
    # reads directly as added driving seconds.
    provider = previous.provider if previous is not None else ReusingProvider()
    built = build_problem(hub=hub, day=day, crews=crews, orders=stops, objective="time", provider=provider)
    problem = built.problem
    crews_key = tuple((c.vehicle.pk, str(c.shift)) for c in crews)
    if not problem.vehicles:
        return DayRoutes(fingerprint, built, None, {}, [j.id for j in problem.jobs], crews_key, provider=provider)
    # Compiled once: the plan starts empty and receives the routes built on its own model.
    plan = InsertionPlan(problem, Solution(), provider)
    model = plan.model
    reuse = previous is not None and previous.crews_key == crews_key
    start = plan_sequences or (previous.sequences if reuse else {})
    routes = _start_routes(model, start)
    if not plan_sequences:
        # A stop whose window or load changed may no longer fit where it was: such a route
        # starts over (its stops are inserted again). A plan's routes are kept as they are.
        routes = {v: seq if _still_feasible(model, v, seq) else [] for v, seq in routes.items()}
    placed = {i for seq in routes.values() for i in seq}
    # Earliest windows first: each route then grows in the order it is driven.
    free = sorted((i for i in range(len(model.tasks)) if i not in placed), key=lambda i: _opens(model.tasks[i]))
    if free:
        greedy_insert(model, routes, free)
    full = {
        v: _with_breaks(model, v, seq, previous.timed.get(model.vehicles[v].id) if reuse else None)
        for v, seq in routes.items()
    }
    plan.sequences = full
    plan.gaps = [route_gaps(model, v, seq) for v, seq in full.items()]
    sequences = {model.vehicles[v].id: [model.tasks[i].id for i in seq] for v, seq in routes.items()}
    timed = {model.vehicles[v].id: [_item(model, i) for i in seq] for v, seq in full.items()}
    routed = {i for seq in routes.values() for i in seq}
    unrouted = [task.id for i, task in enumerate(model.tasks) if i not in routed]
    return DayRoutes(fingerprint, built, plan, sequences, unrouted, crews_key, timed, provider)


def _start_routes(model, start: dict[int, list[int]]) -> dict[int, list[int]]:
    """Task-index routes from a stop order given as job ids by vehicle id (unknown ids skipped)."""
    task_of = {task.id: i for i, task in enumerate(model.tasks)}
    vehicle_of = {veh.id: v for v, veh in enumerate(model.vehicles)}
    routes: dict[int, list[int]] = {v: [] for v in range(len(model.vehicles))}
    placed: set[int] = set()
    for vehicle_id, job_ids in start.items():
        v = vehicle_of.get(vehicle_id)
        for job_id in job_ids if v is not None else ():
            if job_id in task_of and task_of[job_id] not in placed:
                routes[v].append(task_of[job_id])
                placed.add(task_of[job_id])
    return routes


def _opens(task) -> int:
    return min((a for a, _ in task.windows), default=0)


def _still_feasible(model, v: int, seq: list[int]) -> bool:
    if not seq:
        return True
    route = build_route(model, v, seq)
    return route.time_warp == 0 and all(
        amount <= capacity for amount, capacity in zip(route.delivery, model.vehicles[v].capacity, strict=False)
    )


def _item(model, i: int) -> tuple[str, int]:
    return ("break", -i - 1) if i < 0 else ("job", model.tasks[i].id)


def _with_breaks(model, v: int, seq: list[int], previous: list[tuple[str, int]] | None) -> list[int]:
    """The route with its breaks: where they were last time if its stops did not change."""
    if not seq or not model.vehicles[v].breaks:
        return list(seq)
    if previous is not None and [ident for kind, ident in previous if kind == "job"] == [
        model.tasks[i].id for i in seq
    ]:
        task_of = {model.tasks[i].id: i for i in seq}
        return [task_of[ident] if kind == "job" else -ident - 1 for kind, ident in previous]
    return place_breaks(model, v, seq)


def insertion_for(
    routes: DayRoutes,
    *,
    lat: float,
    lng: float,
    start: dt.datetime,
    end: dt.datetime,
    load: dict,
    service_minutes: float,
) -> Insertion | None:
    """The cheapest way to add a stop at (lat, lng) served inside [start, end], or None."""
    if routes.plan is None:
        return None
    built = routes.built
    probe = StopRow(0, lat, lng, [], service_minutes, load.get("kg", 0), load.get("m3", 0), load.get("parcels", 1))
    job = Job(
        id=0,
        place=Place(coordinates=(float(lng), float(lat))),
        service_s=round(service_minutes * 60),
        delivery=order_amounts(probe),
        time_windows=[(built.seconds(start), built.seconds(end))],
    )
    candidates = best_insertion(routes.plan, job)
    if not candidates:
        return None
    best = candidates[0]
    profile = next(v.profile for v in built.problem.vehicles if v.id == best.vehicle)
    added_s = max(0.0, best.added_cost)
    return Insertion(
        vehicle_id=best.vehicle,
        added_minutes=round(added_s / 60, 1),
        added_km=round(added_s * routes.provider.speed_ms(profile) / 1000, 2),
        arrival=built.at(best.arrival),
    )
