"""Cheapest feasible insertion of one stop into fixed routes (numpy, no search).

For every gap of every route the check is O(1) after an O(route) precomputation: the
earliest departure from the stop before the gap, the latest start at the stop after it
that keeps the rest of the route on time (backward slack), the peak load before and after
the gap, and the remaining distance / travel-time allowance. Used for delivery-slot
availability and by dynamic re-optimisation. Soft-window lateness is not priced here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from routing.model import COST_SCALE, HORIZON, Model, Task
from routing.problem import Route
from routing.schedule import build_route


@dataclass
class Gaps:
    """One row per insertion gap of one route (between step k and step k + 1)."""

    vehicle: int
    position: np.ndarray  # insert at this index of the task sequence
    from_loc: np.ndarray  # -1: no location (open start)
    to_loc: np.ndarray  # -1: no location (open end)
    depart: np.ndarray  # earliest departure from step k, s
    latest: np.ndarray  # latest arrival at step k + 1 keeping the suffix feasible, s
    load_before: np.ndarray  # (gaps, dims) peak load from start to step k
    load_after: np.ndarray  # (gaps, dims) peak load from step k to the end
    base_dur: np.ndarray  # travel k → k + 1 now, s
    base_dist: np.ndarray
    spare_dist: int
    spare_travel: int
    used: bool
    tasks: int


def _latest_starts(model: Model, v: int, route: Route) -> np.ndarray:
    """Latest service start per step such that every later step stays in its window."""
    veh, steps = model.vehicles[v], route.steps
    dur = model.duration(v)
    latest = np.full(len(steps), HORIZON, dtype=np.int64)
    nxt = veh.shift[1] + veh.max_overtime
    for k in range(len(steps) - 1, -1, -1):
        s = steps[k]
        own = _window_end(s.arrival + s.waiting_time, _windows_of(model, v, s))
        if k == len(steps) - 1:
            latest[k] = min(own, nxt) if s.type == "end" else min(own, nxt - s.service - s.setup)
            continue
        after = steps[k + 1]
        leg = 0
        if s.node is not None and after.node is not None and after.type != "break":
            leg = int(dur[s.node, after.node])
        latest[k] = min(own, latest[k + 1] - leg - s.service - s.setup)
    return latest


def _windows_of(model, v, step):
    if step.type == "break":
        return next(b.time_windows for b in model.vehicles[v].breaks if b.id == step.id)
    if step.type in ("start", "end"):
        return []
    return model.task_by_key[(step.type, step.id)].windows


def _window_end(start: int, windows) -> int:
    for a, b in sorted(windows):
        if a <= start <= b:
            return b
    return HORIZON if not windows else start


def route_gaps(model: Model, v: int, seq: list[int]) -> Gaps:
    """Precompute the insertion gaps of vehicle ``v`` driving ``seq``."""
    veh = model.vehicles[v]
    route = build_route(model, v, seq)
    steps = route.steps
    latest = _latest_starts(model, v, route)
    locs = np.array([-1 if s.node is None else s.node for s in steps], dtype=np.int64)
    depart = np.array([s.arrival + s.waiting_time + s.setup + s.service for s in steps])
    # The timed route leaves the start late when the first stop would make the driver wait
    # (schedule._delay_departure); the vehicle can still leave at its shift start, so a stop
    # inserted before that first stop is reachable from then on.
    depart[0] = veh.shift[0]
    loads = np.array([s.load for s in steps], dtype=np.int64).reshape(len(steps), model.dims)
    before = np.maximum.accumulate(loads, axis=0)
    after = np.maximum.accumulate(loads[::-1], axis=0)[::-1]
    task_pos = np.cumsum([s.type in ("job", "pickup", "delivery") for s in steps])
    n = len(steps) - (1 if steps[-1].type == "end" else 0)
    k = np.arange(n)
    nxt = np.minimum(k + 1, len(steps) - 1)
    has_next = k + 1 < len(steps)
    to_loc = np.where(has_next, locs[nxt], -1)
    # Waiting and window starts at step k + 1 are absorbed: only its latest start matters.
    latest_arrival = np.where(has_next, latest[nxt], veh.shift[1] + veh.max_overtime)
    dur, dist = model.duration(v), model.distance(v)
    ok = (locs[k] >= 0) & (to_loc >= 0)
    base_dur = np.where(ok, dur[np.maximum(locs[k], 0), np.maximum(to_loc, 0)], 0)
    base_dist = np.where(ok, dist[np.maximum(locs[k], 0), np.maximum(to_loc, 0)], 0)
    return Gaps(
        v,
        task_pos[k],
        locs[k],
        to_loc,
        depart[k],
        latest_arrival,
        before[k],
        after[np.minimum(k, len(steps) - 1)],
        base_dur,
        base_dist,
        (HORIZON if veh.max_distance is None else veh.max_distance) - route.distance,
        (HORIZON if veh.max_travel is None else veh.max_travel) - route.duration,
        bool(seq),
        int(task_pos[-1]),
    )


@dataclass
class Candidate:
    """A feasible insertion: vehicle id, position in its task sequence, added cost, arrival (s)."""

    vehicle: int
    position: int
    added_cost: float
    arrival: int


def evaluate(model: Model, gaps: Gaps, task: Task, vectors) -> list[tuple]:
    """Feasible (vehicle index, position, scaled added cost, arrival) for one route."""
    veh = model.vehicles[gaps.vehicle]
    if not task.skills <= veh.skills:
        return []
    if veh.max_tasks is not None and gaps.tasks + 1 > veh.max_tasks:
        return []
    to_t, from_t, dist_to, dist_from = vectors(gaps.vehicle)
    has_from, has_to = gaps.from_loc >= 0, gaps.to_loc >= 0
    leg_in = np.where(has_from, to_t[np.maximum(gaps.from_loc, 0)], 0)
    leg_out = np.where(has_to, from_t[np.maximum(gaps.to_loc, 0)], 0)
    d_in = np.where(has_from, dist_to[np.maximum(gaps.from_loc, 0)], 0)
    d_out = np.where(has_to, dist_from[np.maximum(gaps.to_loc, 0)], 0)
    arrival = gaps.depart + leg_in
    start = _starts(arrival, task)
    finish = start + task.setup + task.service
    ok = (start >= 0) & (finish + leg_out <= gaps.latest)
    ok &= np.all(gaps.load_before + task.delivery <= veh.capacity, axis=1)
    ok &= np.all(gaps.load_after + task.pickup <= veh.capacity, axis=1)
    added_dur = leg_in + leg_out - gaps.base_dur
    added_dist = d_in + d_out - gaps.base_dist
    ok &= (added_dist <= gaps.spare_dist) & (added_dur <= gaps.spare_travel)
    cost = added_dur * veh.per_s + added_dist * veh.per_m + (0 if gaps.used else veh.fixed)
    idx = np.nonzero(ok)[0]
    return [(gaps.vehicle, int(gaps.position[i]), int(cost[i]), int(arrival[i])) for i in idx]


def _starts(arrival: np.ndarray, task: Task) -> np.ndarray:
    """Earliest service start per arrival (s); -1 where every window is missed."""
    start = arrival.copy()
    if task.soft_window is not None:
        start = np.maximum(start, task.soft_window[0])
    if not task.windows:
        return start
    out = np.full_like(start, -1)
    for a, b in sorted(task.windows, reverse=True):
        out = np.where(start <= b, np.maximum(start, a), out)
    return out


def to_candidates(model: Model, rows: list[tuple]) -> list[Candidate]:
    """Sort by added cost and convert to vehicle ids and cost units."""
    rows = sorted(rows, key=lambda r: (r[2], r[0], r[1]))
    return [Candidate(model.vehicles[v].id, p, c / COST_SCALE, a) for v, p, c, a in rows]


def greedy_insert(model: Model, routes: dict[int, list[int]], tasks: list[int]) -> None:
    """Insert job tasks one by one at their cheapest feasible position (in place)."""
    gaps = {v: route_gaps(model, v, seq) for v, seq in routes.items()}
    for i in sorted(tasks, key=lambda i: -model.tasks[i].priority):
        task = model.tasks[i]

        def vectors(v: int, loc=task.loc):
            dur, dist = model.duration(v), model.distance(v)
            return dur[:, loc], dur[loc, :], dist[:, loc], dist[loc, :]

        rows = [r for g in gaps.values() for r in evaluate(model, g, task, vectors)]
        if not rows:
            continue
        v, position, _, _ = min(rows, key=lambda r: r[2])
        seq = routes[v]
        # ``position`` counts tasks; breaks in the sequence shift the list index.
        k, seen = 0, 0
        while k < len(seq) and (seen < position or seq[k] < 0):
            seen += seq[k] >= 0
            k += 1
        seq.insert(k, i)
        gaps[v] = route_gaps(model, v, seq)
