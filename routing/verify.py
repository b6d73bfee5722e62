"""Independent feasibility check of a solution against its problem.

Deliberately re-derived from the problem (not from the compiled model or the route
builder) so that a bug in the solver's timing code cannot hide itself: times, loads,
distances and costs are recomputed from the raw matrices in the order the steps claim.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from routing.problem import Place, Problem, Route, Solution, Vehicle
from routing.travel import GreatCircleProvider, TravelProvider

Lookup = Callable[[Place, Place], tuple[int, int]]


def verify(problem: Problem, solution: Solution, provider: TravelProvider | None = None) -> list[str]:
    """Return every violated rule as a readable message (empty list = feasible).

    Times (s), distances (m), loads and costs are recomputed from the problem's matrices, or
    from ``provider`` when it has coordinates instead: pass the provider ``solve`` used.
    """
    issues: list[str] = []
    tasks = _task_index(problem)
    seen: Counter[tuple[str, int]] = Counter()
    lookups = _lookups(problem, provider or GreatCircleProvider())
    vehicles = {v.id: v for v in problem.vehicles}
    used = Counter(r.vehicle for r in solution.routes)
    issues += [f"vehicle {v} has {n} routes" for v, n in used.items() if n > 1]
    for route in solution.routes:
        vehicle = vehicles.get(route.vehicle)
        if vehicle is None:
            issues.append(f"route for unknown vehicle {route.vehicle}")
            continue
        for step in route.steps:
            if step.type in ("job", "pickup", "delivery"):
                seen[(step.type, step.id)] += 1
        issues += _check_route(problem, vehicle, route, tasks, lookups[vehicle.id])
    issues += _check_coverage(solution, tasks, seen)
    return issues


def _task_index(problem: Problem) -> dict[tuple[str, int], tuple]:
    index: dict[tuple[str, int], tuple] = {}
    for job in problem.jobs:
        index[("job", job.id)] = (job, job, job.delivery, job.pickup)
    for s in problem.shipments:
        index[("pickup", s.pickup.id)] = (s.pickup, s, [], s.amount)
        index[("delivery", s.delivery.id)] = (s.delivery, s, s.amount, [])
    return index


def _lookups(problem: Problem, provider: TravelProvider) -> dict[int, Lookup]:
    out: dict[int, Lookup] = {}
    for vehicle in problem.vehicles:
        out[vehicle.id] = _lookup(problem, vehicle, provider)
    return out


def _lookup(problem: Problem, vehicle: Vehicle, provider: TravelProvider) -> Lookup:
    speed = vehicle.speed_factor
    mats = problem.matrices.get(vehicle.profile)
    if mats is not None and mats.durations is not None:
        dur, dist = mats.durations, mats.distances

        def given(a: Place, b: Place) -> tuple[int, int]:
            if a.index == b.index:
                return 0, 0  # staying put is free, as in the solver's model
            seconds = dur[a.index][b.index]  # type: ignore[index]
            metres = dist[a.index][b.index] if dist is not None else 0  # type: ignore[index]
            return (seconds if speed == 1.0 else round(seconds / speed)), metres

        return given
    coords = sorted({p.coordinates for p in _all_places(problem) if p.coordinates})
    pos = {c: k for k, c in enumerate(coords)}
    durations, distances = provider.matrices([(c[1], c[0]) for c in coords], vehicle.profile)

    def estimated(a: Place, b: Place) -> tuple[int, int]:
        i, j = pos[a.coordinates], pos[b.coordinates]
        seconds = int(durations[i, j])
        return (seconds if speed == 1.0 else round(seconds / speed)), int(distances[i, j])

    return estimated


def _all_places(problem: Problem) -> list[Place]:
    places = [j.place for j in problem.jobs]
    places += [s.pickup.place for s in problem.shipments]
    places += [s.delivery.place for s in problem.shipments]
    places += [p for v in problem.vehicles for p in (v.start, v.end) if p is not None]
    return places


def _check_coverage(solution: Solution, tasks: dict, seen: Counter) -> list[str]:
    issues = [f"{k[0]} {k[1]} served {n} times" for k, n in seen.items() if n > 1]
    issues += [f"unknown {k[0]} {k[1]} in a route" for k in seen if k not in tasks]
    left = Counter((u.type, u.id) for u in solution.unassigned)
    issues += [f"{k[0]} {k[1]} both served and unassigned" for k in left if k in seen]
    issues += [f"{k[0]} {k[1]} neither served nor unassigned" for k in tasks if k not in seen and k not in left]
    return issues


def _same_place(a: Place | None, b: Place | None) -> bool:
    return a is not None and b is not None and (a.index, a.coordinates) == (b.index, b.coordinates)


def _check_route(problem, vehicle, route: Route, tasks, lookup) -> list[str]:
    walk = _RouteWalk(vehicle, tasks, lookup)
    walk.check_shape(route.steps)
    for k, step in enumerate(route.steps):
        walk.step(k, step)
    walk.finish()
    tag, issues = walk.tag, walk.issues
    issues += _check_pairs(tag, problem, walk.position)
    _expect(issues, f"{tag} route distance", route.distance, walk.metres)
    _expect(issues, f"{tag} route duration", route.duration, walk.travel)
    _expect(issues, f"{tag} route lateness", route.lateness, walk.late_total)
    totals = (walk.travel, walk.metres, walk.late_cost, walk.clock)
    issues += _check_cost(tag, vehicle, route, totals, problem)
    return issues


class _RouteWalk:
    """Replays one route step by step from the raw problem, collecting violations."""

    def __init__(self, vehicle: Vehicle, tasks: dict, lookup: Lookup) -> None:
        self.vehicle, self.tasks, self.lookup = vehicle, tasks, lookup
        self.tag = f"vehicle {vehicle.id}"
        self.shift = vehicle.time_window or (0, 10**9)
        self.issues: list[str] = []
        self.here = vehicle.start
        self.clock = self.travel = self.metres = self.late_total = self.task_steps = 0
        self.late_cost = 0.0
        self.load = [0] * len(vehicle.capacity)
        self.breaks_done: Counter[int] = Counter()
        self.position: dict[tuple[str, int], int] = {}

    def check_shape(self, steps) -> None:
        kinds, vehicle, tag = [s.type for s in steps], self.vehicle, self.tag
        if vehicle.start is not None and kinds[:1] != ["start"]:
            self.issues.append(f"{tag}: route does not begin with a start step")
        if vehicle.end is not None and kinds[-1:] != ["end"]:
            self.issues.append(f"{tag}: route does not finish with an end step")
        if vehicle.end is None and "end" in kinds:
            self.issues.append(f"{tag}: open route has an end step")
        # Jobs' deliveries are on board from the start.
        for s in steps:
            if s.type == "job" and ("job", s.id) in self.tasks:
                for d, amount in enumerate(self.tasks[("job", s.id)][2]):
                    self.load[d] += amount
        self.clock = steps[0].arrival if steps else self.shift[0]
        if self.clock < self.shift[0]:
            self.issues.append(f"{tag}: starts at {self.clock} before its shift {self.shift[0]}")

    def step(self, k: int, step) -> None:
        if step.type == "start":
            _expect(self.issues, f"{self.tag} start load", step.load, self.load)
            self._check_load("start")
        elif step.type == "break":
            self._break(step)
        elif step.type == "end":
            self._move(k, step, self.vehicle.end)
            if self.clock > self.shift[1] + self.vehicle.max_overtime_s:
                self.issues.append(f"{self.tag}: ends at {self.clock}, after its shift end {self.shift[1]}")
            _expect(self.issues, f"{self.tag} end load", step.load, self.load)
        elif (step.type, step.id) in self.tasks:
            self._task(k, step)

    def _break(self, step) -> None:
        brk = next((b for b in self.vehicle.breaks if b.id == step.id), None)
        if brk is None:
            self.issues.append(f"{self.tag}: unknown break {step.id}")
            return
        self.breaks_done[brk.id] += 1
        windows, clock = brk.time_windows, self.clock
        start = max(clock, min((a for a, b in windows if b >= clock), default=clock))
        if windows and not any(a <= start <= b for a, b in windows):
            self.issues.append(f"{self.tag}: break {brk.id} starts at {start}, outside its windows")
        _expect(self.issues, f"{self.tag} break {brk.id} arrival", step.arrival, clock)
        self.clock = start + brk.service_s

    def _move(self, k: int, step, target: Place | None) -> None:
        if self.here is not None and target is not None:
            seconds, leg_m = self.lookup(self.here, target)
            self.clock += seconds
            self.travel += seconds
            self.metres += leg_m
        tag = f"{self.tag} step {k}"
        _expect(self.issues, f"{tag} arrival", step.arrival, self.clock)
        _expect(self.issues, f"{tag} duration", step.duration, self.travel)
        _expect(self.issues, f"{tag} distance", step.distance, self.metres)

    def _task(self, k: int, step) -> None:
        key = (step.type, step.id)
        task = self.tasks[key]
        self.task_steps += 1
        self.position[key] = k
        self._move(k, step, task[0].place)
        self.clock, late, found = _serve(self.tag, key, task, self.vehicle, step, self.clock, self.here)
        self.issues += found
        self.late_total += late
        self.late_cost += late * task[0].lateness_cost_per_hour / 3600
        for d in range(len(self.load)):
            self.load[d] += _at(task[3], d) - _at(task[2], d)
        self._check_load(f"{step.type} {step.id}")
        _expect(self.issues, f"{self.tag} {step.type} {step.id} load", step.load, list(self.load))
        self.here = task[0].place

    def _check_load(self, where: str) -> None:
        capacity = self.vehicle.capacity
        if any(not 0 <= x <= c for x, c in zip(self.load, capacity, strict=True)):
            self.issues.append(f"{self.tag}: load {self.load} exceeds capacity {capacity} at {where}")

    def finish(self) -> None:
        vehicle, tag = self.vehicle, self.tag
        if vehicle.end is None and self.clock > self.shift[1] + vehicle.max_overtime_s:
            self.issues.append(f"{tag}: finishes at {self.clock}, after its shift end {self.shift[1]}")
        for brk in vehicle.breaks:
            if self.task_steps and self.breaks_done[brk.id] != 1:
                self.issues.append(f"{tag}: break {brk.id} taken {self.breaks_done[brk.id]} times")
        self.issues += _check_limits(tag, vehicle, self.travel, self.metres, self.task_steps)


def _at(values: list[int], d: int) -> int:
    return values[d] if d < len(values) else 0


def _expect(issues: list[str], what: str, claimed, actual) -> None:
    if claimed != actual:
        issues.append(f"{what}: solution says {claimed}, recomputed {actual}")


def _serve(tag, key, task, vehicle, step, clock, here):
    place_task, owner = task[0], task[1]
    issues = []
    if not set(owner.skills) <= set(vehicle.skills):
        issues.append(f"{tag}: lacks skills {sorted(set(owner.skills) - set(vehicle.skills))} for {key[0]} {key[1]}")
    start = clock
    soft = place_task.soft_window
    if soft is not None:
        start = max(start, soft[0])
    windows = place_task.time_windows
    if windows:
        candidates = [a for a, b in windows if b >= start]
        start = max(start, min(candidates)) if candidates else start
        if not any(a <= start <= b for a, b in windows):
            issues.append(f"{tag}: {key[0]} {key[1]} starts at {start}, outside {windows}")
    _expect(issues, f"{tag} {key[0]} {key[1]} waiting", step.waiting_time, start - clock)
    late = max(0, start - soft[1]) if soft is not None else 0
    _expect(issues, f"{tag} {key[0]} {key[1]} lateness", step.lateness, late)
    setup = place_task.setup_s if not _same_place(here, place_task.place) else 0
    return start + setup + place_task.service_s, late, issues


def _check_limits(tag, vehicle, travel, metres, count) -> list[str]:
    issues = []
    if vehicle.max_travel_time_s is not None and travel > vehicle.max_travel_time_s:
        issues.append(f"{tag}: travel {travel} s over max_travel_time {vehicle.max_travel_time_s}")
    if vehicle.max_distance_m is not None and metres > vehicle.max_distance_m:
        issues.append(f"{tag}: distance {metres} m over max_distance {vehicle.max_distance_m}")
    if vehicle.max_tasks is not None and count > vehicle.max_tasks:
        issues.append(f"{tag}: {count} tasks over max_tasks {vehicle.max_tasks}")
    return issues


def _check_pairs(tag, problem, position) -> list[str]:
    issues = []
    for s in problem.shipments:
        p = position.get(("pickup", s.pickup.id))
        d = position.get(("delivery", s.delivery.id))
        if (p is None) != (d is None):
            issues.append(f"{tag}: shipment {s.pickup.id}/{s.delivery.id} split across routes")
        elif p is not None and d is not None and p > d:
            issues.append(f"{tag}: shipment delivery {s.delivery.id} before its pickup")
    return issues


def _check_cost(tag, vehicle, route, totals, problem) -> list[str]:
    travel, metres, lateness, finish = totals
    mats = problem.matrices.get(vehicle.profile)
    if mats is not None and mats.costs is not None:
        return []  # custom cost matrices: the travel cost is whatever the matrix says
    shift_end = (vehicle.time_window or (0, 10**9))[1]
    overtime = max(0, finish - shift_end)
    expected = (
        vehicle.costs.fixed
        + vehicle.costs.per_hour * travel / 3600
        + vehicle.costs.per_km * metres / 1000
        + lateness
        + overtime * vehicle.overtime_cost_per_hour / 3600
    )
    if abs(route.cost - expected) > 1.0:
        return [f"{tag}: cost {route.cost} differs from recomputed {expected:.1f}"]
    return []
