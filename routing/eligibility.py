"""Which vehicles could serve each task on its own, and why not when none can.

A task that no vehicle can serve alone (out and back from its start) is unassigned before
the search with the reason of the check that ruled out the last vehicle. This gives
exact reasons for most unassigned tasks and keeps hopeless stops out of the engines.
"""

from __future__ import annotations

import numpy as np

from routing.model import Fleet, Model, Task

# Order of the checks; the reported reason is the furthest one any vehicle reached.
STAGES = ("skills", "capacity", "shift", "time_window", "range", "max_travel_time")


def _service_start(arrival: int, task: Task) -> int | None:
    start = arrival
    if task.soft_window is not None:
        start = max(start, task.soft_window[0])
    if not task.windows:
        return start
    fits = [max(start, a) for a, b in task.windows if b >= start]
    return min(fits) if fits else None


def _stage_reached(model: Model, v: int, visit: list[int]) -> int:
    """Index in STAGES of the first failed check, ``len(STAGES)`` if all pass."""
    veh: Fleet = model.vehicles[v]
    tasks = [model.tasks[i] for i in visit]
    if not tasks[0].skills <= veh.skills:
        return 0
    peak = max(np.max(t.delivery, initial=0) for t in tasks)
    load = sum((t.pickup - t.delivery for t in tasks), np.zeros(model.dims, dtype=np.int64))
    carried = np.maximum(tasks[0].delivery, tasks[0].pickup)
    if np.any(carried > veh.capacity) or (peak and np.any(load > veh.capacity)):
        return 1
    end_limit = veh.shift[1] + veh.max_overtime
    for task in tasks:
        if task.windows and all(b < veh.shift[0] or a > end_limit for a, b in task.windows):
            return 2
    dur, dist = model.duration(v), model.distance(v)
    t, prev, travel, metres = veh.shift[0], veh.start, 0, 0
    for task in tasks:
        leg = int(dur[prev, task.loc]) if prev is not None else 0
        travel += leg
        metres += int(dist[prev, task.loc]) if prev is not None else 0
        start = _service_start(t + leg, task)
        if start is None:
            return 3
        t, prev = start + task.setup + task.service, task.loc
    if veh.end is not None:
        travel += int(dur[prev, veh.end])
        metres += int(dist[prev, veh.end])
        t += int(dur[prev, veh.end])
    if t > end_limit:
        return 2
    if veh.max_distance is not None and metres > veh.max_distance:
        return 4
    if veh.max_travel is not None and travel > veh.max_travel:
        return 5
    return len(STAGES)


def _visits(model: Model) -> list[list[int]]:
    """Task groups to check together: a job alone, a shipment as pickup then delivery."""
    groups = []
    for i, task in enumerate(model.tasks):
        if task.kind == "job":
            groups.append([i])
        elif task.kind == "pickup":
            groups.append([i, task.partner])
    return groups


def eligibility(model: Model) -> tuple[dict[int, list[int]], dict[int, str]]:
    """Map each task to vehicles able to serve it alone, and unservable tasks to a reason."""
    allowed: dict[int, list[int]] = {}
    reasons: dict[int, str] = {}
    classes = _vehicle_classes(model)
    for group in _visits(model):
        best = -1
        ok: list[int] = []
        for members in classes:
            stage = _stage_reached(model, members[0], group)
            if stage == len(STAGES):
                ok.extend(members)
            best = max(best, stage)
        for i in group:
            if ok:
                allowed[i] = sorted(ok)
            else:
                reasons[i] = STAGES[best] if best >= 0 else "no_vehicle"
    return allowed, reasons


def _vehicle_classes(model: Model) -> list[list[int]]:
    # Vehicles identical in what the checks read share one evaluation.
    classes: dict[tuple, list[int]] = {}
    for v, veh in enumerate(model.vehicles):
        key = (
            veh.start,
            veh.end,
            veh.shift,
            tuple(veh.capacity.tolist()),
            veh.skills,
            veh.matrix_key,
            veh.max_distance,
            veh.max_travel,
            veh.max_overtime,
        )
        classes.setdefault(key, []).append(v)
    return list(classes.values())
