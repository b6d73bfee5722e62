"""Turn an ordered visit sequence into a timed route (earliest start at every step).

A sequence item is a task index (``>= 0``) or a break encoded as ``-(b + 1)`` for the
vehicle's break ``b``. Breaks are taken at the current position, after the previous
service. Service starts at the earliest time allowed by the hard windows and the soft
window's start; starting after the soft window's end is lateness.
"""

from __future__ import annotations

import numpy as np

from routing.model import COST_SCALE, Model
from routing.problem import Route, Step


def _window_start(arrival: int, windows, soft) -> tuple[int, int]:
    """Earliest service start and the time warp (s late for every window)."""
    start = arrival
    if soft is not None:
        start = max(start, soft[0])
    if not windows:
        return start, 0
    for a, b in sorted(windows):
        if start <= b:
            return max(start, a), 0
    return start, start - max(b for _, b in windows)


def _scaled_round(value: int) -> int:
    return int((value + COST_SCALE // 2) // COST_SCALE)


class _Timeline:
    """Running clock, travel, distance and travel cost of one vehicle's route."""

    def __init__(self, model: Model, v: int) -> None:
        veh = model.vehicles[v]
        self.dur, self.dist = model.duration(v), model.distance(v)
        self.cost_matrix = model.costs.get(veh.matrix_key)
        self.t, self.travel, self.metres, self.custom_cost = veh.shift[0], 0, 0, 0
        self.prev = veh.start
        self.lateness = self.lateness_cost = self.warp = 0

    def drive(self, loc: int) -> None:
        if self.prev is not None:
            leg = int(self.dur[self.prev, loc])
            self.t += leg
            self.travel += leg
            self.metres += int(self.dist[self.prev, loc])
            if self.cost_matrix is not None:
                self.custom_cost += int(self.cost_matrix[self.prev, loc]) * COST_SCALE


def build_route(model: Model, v: int, sequence: list[int]) -> Route:
    """Timed route of vehicle ``v`` visiting ``sequence``; times s, distances m."""
    veh = model.vehicles[v]
    on_board = [model.tasks[i].delivery for i in sequence if i >= 0 and model.tasks[i].kind == "job"]
    load = sum(on_board, np.zeros(model.dims, dtype=np.int64))
    line = _Timeline(model, v)
    steps = [_place_step("start", None, veh.start, model, line.t, load)]
    for item in sequence:
        if item < 0:
            brk = veh.breaks[-item - 1]
            begin, warp = _window_start(line.t, brk.time_windows, None)
            line.warp += warp
            steps.append(_break_step(brk, line.prev, model, line, begin, load))
            line.t = begin + brk.service_s
            continue
        task = model.tasks[item]
        load = load - task.delivery + task.pickup
        steps.append(_visit(line, task, load))
    if veh.end is not None:
        if line.prev is not None:
            line.drive(veh.end)
        steps.append(_place_step("end", None, veh.end, model, line.t, load, line))
    _delay_departure(steps)
    travel_cost = line.travel * veh.per_s + line.metres * veh.per_m
    if line.cost_matrix is not None:
        travel_cost = line.custom_cost
    route = _finish(model, v, sequence, steps, travel_cost, line)
    route.time_warp = line.warp + max(0, route.overtime - veh.max_overtime)
    return route


def _visit(line: _Timeline, task, load: np.ndarray) -> Step:
    line.drive(task.loc)
    setup = task.setup if line.prev != task.loc else 0
    begin, warp = _window_start(line.t, task.windows, task.soft_window)
    line.warp += warp
    late = max(0, begin - task.soft_window[1]) if task.soft_window else 0
    line.lateness += late
    line.lateness_cost += late * task.lateness_per_s
    arrival, line.t, line.prev = line.t, begin + setup + task.service, task.loc
    return Step(
        type=task.kind,
        id=task.id,
        location_index=task.place.index,
        arrival=arrival,
        service=task.service,
        setup=setup,
        waiting_time=begin - arrival,
        duration=line.travel,
        distance=line.metres,
        load=load.tolist(),
        lateness=late,
        location=task.place.coordinates,
        node=task.loc,
    )


def place_breaks(model: Model, v: int, sequence: list[int]) -> list[int]:
    """Insert vehicle ``v``'s breaks where the route stays on time and ends earliest."""
    seq = list(sequence)
    for b, brk in enumerate(model.vehicles[v].breaks):
        windows = brk.time_windows or [model.vehicles[v].shift]
        opens, closes = min(a for a, _ in windows), max(b for _, b in windows)
        steps = build_route(model, v, seq).steps
        departs = [
            s.arrival + s.waiting_time + s.setup + s.service
            for s in steps
            if s.type in ("start", "job", "pickup", "delivery") or s.type == "break"
        ]
        # Only gaps left between the window's opening and closing can hold the break.
        first = max([p for p, t in enumerate(departs) if t <= opens], default=0)
        last = max([p for p, t in enumerate(departs) if t <= closes], default=first)
        best = None
        for pos in range(first, min(last, len(seq)) + 1):
            trial = seq[:pos] + [-(b + 1)] + seq[pos:]
            route = build_route(model, v, trial)
            key = (route.time_warp, route.steps[-1].arrival, route.waiting_time)
            if best is None or key < best[0]:
                best = (key, trial)
        seq = best[1] if best else seq + [-(b + 1)]
    return seq


def _place_step(kind, ident, loc, model, t, load, line: _Timeline | None = None) -> Step:
    place = model.places[loc] if loc is not None else None
    return Step(
        type=kind,
        id=ident,
        location_index=place.index if place else None,
        arrival=t,
        duration=line.travel if line else 0,
        distance=line.metres if line else 0,
        load=load.tolist(),
        location=place.coordinates if place else None,
        node=loc,
    )


def _break_step(brk, loc, model, line: _Timeline, begin: int, load) -> Step:
    step = _place_step("break", brk.id, loc, model, line.t, load, line)
    step.service, step.waiting_time = brk.service_s, begin - line.t
    return step


def _delay_departure(steps: list[Step]) -> None:
    # Leaving later by the first wait changes nothing after the first service start,
    # and drivers prefer it to waiting at the door (VROOM reports routes the same way).
    if len(steps) < 2 or steps[1].type == "break":
        return
    wait = steps[1].waiting_time
    if wait <= 0:
        return
    steps[0].arrival += wait
    steps[1].arrival += wait
    steps[1].waiting_time = 0


def _finish(model, v, sequence, steps, travel_cost, line: _Timeline) -> Route:
    veh = model.vehicles[v]
    last = steps[-1]
    end_time = last.arrival + last.waiting_time + last.setup + last.service
    overtime = max(0, end_time - veh.shift[1])
    breakdown_scaled = {
        "fixed": veh.fixed,
        "travel": travel_cost,
        "lateness": line.lateness_cost,
        "overtime": overtime * veh.overtime_per_s,
    }
    delivery = np.zeros(model.dims, dtype=np.int64)
    pickup = np.zeros(model.dims, dtype=np.int64)
    for i in sequence:
        if i >= 0:
            delivery += model.tasks[i].delivery
            pickup += model.tasks[i].pickup
    return Route(
        vehicle=veh.id,
        steps=steps,
        cost=_scaled_round(sum(breakdown_scaled.values())),
        cost_breakdown={k: _scaled_round(x) for k, x in breakdown_scaled.items()},
        service=sum(s.service + s.setup for s in steps),
        duration=last.duration,
        waiting_time=sum(s.waiting_time for s in steps),
        distance=last.distance,
        delivery=delivery.tolist(),
        pickup=pickup.tolist(),
        lateness=line.lateness,
        overtime=overtime,
    )
