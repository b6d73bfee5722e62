"""A PyVRP-expressible relaxation of a model, used to seed OR-Tools on large problems.

OR-Tools' own first solutions are poor beyond a few hundred stops (ANCHORS.md: 10–40 %
above the best known at 1,000 stops), PyVRP's are good but it lacks breaks, skills,
several windows, soft windows, setup times and open routes. The relaxation keeps the
seed close to feasible: breaks shorten the shift by their length, the widest window
stands in for several, setup joins the service time, a soft window's start stays a hard
start, open ends go to a zero-cost dummy depot, and arcs into stops a vehicle may not
serve cost so much that PyVRP avoids them. Stops that still land on a vehicle without
their skills are taken out of the seed before OR-Tools starts.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from routing.model import Fleet, Model, Task
from routing.schedule import build_route, place_breaks

# Added to arcs into a stop the vehicle lacks skills for (scaled cost units).
_FORBIDDEN = 10**12


def _task(task: Task) -> Task:
    windows = task.windows
    if len(windows) > 1:
        windows = [max(windows, key=lambda w: w[1] - w[0])]
    if task.soft_window is not None:
        low = task.soft_window[0]
        windows = [(max(a, low), max(b, low)) for a, b in windows] or [(low, 10**9)]
    return replace(task, windows=windows, soft_window=None, service=task.service + task.setup, setup=0)


def _vehicle(veh: Fleet, dummy: int, key: tuple[str, float]) -> Fleet:
    pause = sum(b.service_s for b in veh.breaks)
    return replace(
        veh,
        start=dummy if veh.start is None else veh.start,
        end=dummy if veh.end is None else veh.end,
        shift=(veh.shift[0], max(veh.shift[0], veh.shift[1] - pause)),
        breaks=[],
        max_travel=None,
        max_tasks=None,
        matrix_key=key,
        custom_costs=False,
        per_s=0,
        per_m=1,
        max_distance=None,
    )


def _banned_places(model: Model, allowed: dict[int, list[int]]) -> list[frozenset[int]]:
    everyone = range(len(model.vehicles))
    banned: list[set[int]] = [set() for _ in everyone]
    for i, task in enumerate(model.tasks):
        for v in set(everyone) - set(allowed.get(i, everyone)):
            banned[v].add(task.loc)
    return [frozenset(b) for b in banned]


def relax(model: Model, allowed: dict[int, list[int]]) -> Model:
    """The relaxed model over the same task indices (plus one dummy place at the end)."""
    n = len(model.places)
    dummy = n
    tasks = [_task(t) for t in model.tasks]
    banned_by = _banned_places(model, allowed)
    durations, distances = {}, {}
    keys: dict[tuple, tuple[str, float]] = {}
    vehicles = []
    for v, veh in enumerate(model.vehicles):
        banned = banned_by[v]
        signature = (veh.matrix_key, veh.per_s, veh.per_m, veh.custom_costs, banned)
        if signature not in keys:
            key = (f"relaxed{len(keys)}", 1.0)
            keys[signature] = key
            # Costs go in the distance slot at 1 per unit, as the PyVRP engine expects.
            cost = np.pad(model.arc_cost(v), ((0, 1), (0, 1)))
            if banned:
                cost[:, list(banned)] += _FORBIDDEN
                np.fill_diagonal(cost, 0)
            distances[key] = cost
            durations[key] = np.pad(model.duration(v), ((0, 1), (0, 1)))
        vehicles.append(_vehicle(veh, dummy, keys[signature]))
    places = [*model.places, model.places[0]]
    return Model(tasks, vehicles, places, durations, distances, {}, model.dims)


def _first_late_task(model: Model, route) -> int | None:
    """Position (among tasks) of the first stop served outside its hard windows."""
    position = -1
    for step in route.steps:
        if step.type not in ("job", "pickup", "delivery"):
            continue
        position += 1
        windows = model.task_by_key[(step.type, step.id)].windows
        begin = step.arrival + step.waiting_time
        if windows and not any(a <= begin <= b for a, b in windows):
            return position
    return None


def _over_limits(veh: Fleet, route, count: int) -> bool:
    return (
        (veh.max_distance is not None and route.distance > veh.max_distance)
        or (veh.max_travel is not None and route.duration > veh.max_travel)
        or (veh.max_tasks is not None and count > veh.max_tasks)
    )


def repair(model: Model, routes: dict[int, list[int]]) -> dict[int, list[int]]:
    """Drop stops from seed routes until each is on time in the real model (with breaks).

    A relaxed plan ignores breaks, several windows etc.; OR-Tools rejects a seed it cannot
    complete. Removing the first late stop (or the last one when the shift or a limit is
    exceeded) until the route holds keeps the seed usable; OR-Tools re-inserts the rest.
    """
    out = {}
    for v, seq in routes.items():
        seq = [i for i in seq if model.tasks[i].kind == "job" or _paired(model, i, seq)]
        while seq:
            timed = place_breaks(model, v, seq) if model.vehicles[v].breaks else seq
            route = build_route(model, v, timed)
            late = _first_late_task(model, route)
            if late is None and route.time_warp == 0 and not _over_limits(model.vehicles[v], route, len(seq)):
                break
            victim = seq[late if late is not None else len(seq) - 1]
            partner = model.tasks[victim].partner
            seq = [i for i in seq if i not in (victim, partner)]
        out[v] = seq
    return out


def _paired(model: Model, i: int, seq: list[int]) -> bool:
    return model.tasks[i].partner in seq
