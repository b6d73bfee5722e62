"""Live changes to a running plan: cheapest insertion and quick re-optimisation.

``best_insertion`` answers "which vehicle could still take this stop, where, at what extra
cost" against committed routes without any search; ``committed_routes`` lays committed
stops out as such routes (a given stop order, the rest inserted greedily). ``reoptimise``
rebuilds the plan from the vehicles' live states: done stops disappear, each vehicle starts
where it is, when it is free; new jobs and the stops of broken-down vehicles are inserted
greedily, then OR-Tools improves the result from that start for the rest of the budget.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from routing.eligibility import eligibility
from routing.engines.ortools_engine import solve_ortools
from routing.insertion import Candidate, evaluate, greedy_insert, route_gaps, to_candidates
from routing.model import Model, Task, compile_problem, job_task
from routing.problem import Job, Place, Problem, Solution, Vehicle
from routing.schedule import build_route, place_breaks
from routing.solver import assemble
from routing.travel import GreatCircleProvider, TravelProvider


class InsertionPlan:
    """Committed routes prepared for :func:`best_insertion` (build once, query often)."""

    def __init__(self, problem: Problem, solution: Solution, provider: TravelProvider | None = None) -> None:
        self.problem = problem
        self.provider = provider or GreatCircleProvider()
        self.model = compile_problem(problem, self.provider)
        self.sequences = sequences_of(self.model, solution)
        self.gaps = [route_gaps(self.model, v, seq) for v, seq in self.sequences.items()]
        self._full: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def vectors(self, job: Job):
        """Per vehicle: travel s and m from every model place to the job and back."""
        model, cache = self.model, {}

        def for_vehicle(v: int):
            key = model.vehicles[v].matrix_key
            if key not in cache:
                cache[key] = self._vectors(job, key)
            return cache[key]

        return for_vehicle

    def _vectors(self, job: Job, key: tuple[str, float]):
        profile, speed = key
        mats = self.problem.matrices.get(profile)
        if mats is not None and mats.durations is not None:
            dur, dist = self._full_matrices(profile)
            rows = np.array([p.index for p in self.model.places])
            j = job.place.index
            to_t, from_t, d_to, d_from = dur[rows, j], dur[j, rows], dist[rows, j], dist[j, rows]
        else:
            points = [(p.coordinates[1], p.coordinates[0]) for p in self.model.places]  # type: ignore[index]
            lng, lat = job.place.coordinates  # type: ignore[misc]
            provider = self.provider if hasattr(self.provider, "row") else GreatCircleProvider()
            from_t, d_from = provider.row((lat, lng), points, profile)  # type: ignore[attr-defined]
            if hasattr(provider, "column"):  # roads have one-way streets: both directions asked
                to_t, d_to = provider.column(points, (lat, lng), profile)  # type: ignore[attr-defined]
            else:
                to_t, d_to = from_t, d_from
        if speed != 1.0:
            to_t, from_t = np.rint(to_t / speed), np.rint(from_t / speed)
        return to_t.astype(np.int64), from_t.astype(np.int64), d_to, d_from

    def _full_matrices(self, profile: str) -> tuple[np.ndarray, np.ndarray]:
        if profile not in self._full:
            mats = self.problem.matrices[profile]
            dur = np.asarray(mats.durations, dtype=np.int64)
            dist = np.asarray(mats.distances, dtype=np.int64) if mats.distances else dur * 0
            self._full[profile] = (dur, dist)
        return self._full[profile]


def sequences_of(model: Model, solution: Solution) -> dict[int, list[int]]:
    """Task-index sequences (breaks as ``-(b + 1)``) of a solution's routes, by vehicle index."""
    task_index = {(t.kind, t.id): i for i, t in enumerate(model.tasks)}
    vehicle_index = {veh.id: v for v, veh in enumerate(model.vehicles)}
    out: dict[int, list[int]] = {}
    for route in solution.routes:
        v = vehicle_index[route.vehicle]
        breaks = {b.id: k for k, b in enumerate(model.vehicles[v].breaks)}
        seq = []
        for step in route.steps:
            if step.type == "break":
                seq.append(-(breaks[step.id] + 1))
            elif (step.type, step.id) in task_index:
                seq.append(task_index[(step.type, step.id)])
        out[v] = seq
    for v in range(len(model.vehicles)):
        out.setdefault(v, [])
    return out


def best_insertion(plan: InsertionPlan, job: Job) -> list[Candidate]:
    """Feasible insertions of ``job`` into the committed routes, cheapest first.

    Each candidate gives the vehicle id, the position in that vehicle's task sequence, the
    added cost (cost units) and the arrival time (s). Empty if no vehicle can take it.
    """
    task = job_task(job, -1, plan.model.dims)
    vectors = plan.vectors(job)
    rows: list[tuple] = []
    for gaps in plan.gaps:
        rows.extend(evaluate(plan.model, gaps, task, vectors))
    return to_candidates(plan.model, rows)


@dataclass
class CommittedRoutes:
    """Committed stops laid out on routes, ready for :func:`best_insertion` (``plan``).

    ``sequences``: job ids in driving order by vehicle id; ``timed``: the same with
    ``("break", k)`` items where the vehicle's k-th break falls; ``unrouted``: job ids no
    route could take. ``plan`` is None when the problem has no vehicles.
    """

    plan: InsertionPlan | None
    sequences: dict[int, list[int]]
    timed: dict[int, list[tuple[str, int]]]
    unrouted: list[int]


def committed_routes(
    problem: Problem,
    *,
    provider: TravelProvider | None = None,
    start: dict[int, list[int]] | None = None,
    keep_start: bool = True,
    breaks_at: dict[int, list[tuple[str, int]]] | None = None,
) -> CommittedRoutes:
    """Every job of ``problem`` that fits on a route, laid out without a search.

    ``start`` is a stop order to begin from (job ids by vehicle id; unknown ids are skipped).
    With ``keep_start`` it stays as given (a plan's routes); otherwise a route that is now
    late or overloaded (a job's window or load changed) starts over empty. The other jobs
    are inserted one by one, earliest window first, each where it adds the least cost.
    ``breaks_at`` (a previous ``timed``) keeps a route's breaks where they were when its
    stops did not change; elsewhere they are placed where the route ends earliest.
    """
    if not problem.vehicles:
        return CommittedRoutes(None, {}, {}, [job.id for job in problem.jobs])
    # Compiled once: the plan starts empty and receives the routes built on its own model.
    plan = InsertionPlan(problem, Solution(), provider)
    model = plan.model
    routes = _start_routes(model, start or {})
    if not keep_start:
        routes = {v: seq if _still_feasible(model, v, seq) else [] for v, seq in routes.items()}
    placed = {i for seq in routes.values() for i in seq}
    # Earliest windows first: each route then grows in the order it is driven.
    free = sorted((i for i in range(len(model.tasks)) if i not in placed), key=lambda i: _opens(model.tasks[i]))
    if free:
        greedy_insert(model, routes, free)
    previous = breaks_at or {}
    full = {v: _with_breaks(model, v, seq, previous.get(model.vehicles[v].id)) for v, seq in routes.items()}
    plan.sequences = full
    plan.gaps = [route_gaps(model, v, seq) for v, seq in full.items()]
    routed = {i for seq in routes.values() for i in seq}
    return CommittedRoutes(
        plan,
        {model.vehicles[v].id: [model.tasks[i].id for i in seq] for v, seq in routes.items()},
        {model.vehicles[v].id: [_item(model, i) for i in seq] for v, seq in full.items()},
        [task.id for i, task in enumerate(model.tasks) if i not in routed],
    )


def _start_routes(model: Model, start: dict[int, list[int]]) -> dict[int, list[int]]:
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


def _opens(task: Task) -> int:
    return min((a for a, _ in task.windows), default=0)


def _still_feasible(model: Model, v: int, seq: list[int]) -> bool:
    if not seq:
        return True
    route = build_route(model, v, seq)
    return route.time_warp == 0 and all(
        amount <= capacity for amount, capacity in zip(route.delivery, model.vehicles[v].capacity, strict=False)
    )


def _item(model: Model, i: int) -> tuple[str, int]:
    return ("break", -i - 1) if i < 0 else ("job", model.tasks[i].id)


def _with_breaks(model: Model, v: int, seq: list[int], previous: list[tuple[str, int]] | None) -> list[int]:
    """The route with its breaks: where they were last time if its stops did not change."""
    if not seq or not model.vehicles[v].breaks:
        return list(seq)
    if previous is not None and [ident for kind, ident in previous if kind == "job"] == [
        model.tasks[i].id for i in seq
    ]:
        task_of = {model.tasks[i].id: i for i in seq}
        return [task_of[ident] if kind == "job" else -ident - 1 for kind, ident in previous]
    return place_breaks(model, v, seq)


@dataclass
class VehicleState:
    """Where a vehicle is now: ``position`` from ``available_at`` (s), stops left in order.

    ``remaining`` lists ``(type, id)`` of planned stops not yet done ("job", "pickup",
    "delivery"); a stop in progress counts as done (give its place and end time instead).
    ``travelled_s``/``travelled_m`` are consumed from max travel time / max distance.
    """

    vehicle_id: int
    position: Place
    available_at: int
    remaining: list[tuple[str, int]] = field(default_factory=list)
    broken_down: bool = False
    travelled_s: int = 0
    travelled_m: int = 0
    breaks_taken: frozenset[int] = frozenset()


def reoptimise(
    problem: Problem,
    states: list[VehicleState],
    *,
    new_jobs: list[Job] | tuple[Job, ...] = (),
    cancelled: set[int] | frozenset[int] = frozenset(),
    budget_s: float = 1.5,
    provider: TravelProvider | None = None,
) -> Solution:
    """New plan from live vehicle states within ``budget_s`` seconds.

    Stops stay on their vehicle (their goods are on board) unless it broke down; then
    any vehicle may take them. ``cancelled`` job ids are dropped. Jobs of ``problem`` not
    listed in any state's ``remaining`` are treated as done. Vehicles without a state
    have not left yet and keep their original start.
    """
    started = time.perf_counter()
    live = live_problem(problem, states, new_jobs, cancelled)
    model = compile_problem(live, provider)
    allowed, reasons = eligibility(model)
    task_index = {(t.kind, t.id): i for i, t in enumerate(model.tasks)}
    routes: dict[int, list[int]] = {}
    for v, veh in enumerate(live.vehicles):
        state = next((s for s in states if s.vehicle_id == veh.id), None)
        remaining = state.remaining if state else []
        routes[v] = [
            task_index[k]
            for k in _as_tasks(remaining, cancelled, live)
            if k in task_index and task_index[k] not in reasons
        ]
    placed = {i for seq in routes.values() for i in seq}
    free = [i for i in range(len(model.tasks)) if i not in placed and i not in reasons]
    greedy_insert(model, routes, [i for i in free if model.tasks[i].kind == "job"])
    greedy = assemble(model, routes, reasons)
    remaining_s = budget_s - (time.perf_counter() - started) - 0.1
    task_ids = [i for i in range(len(model.tasks)) if i not in reasons]
    if remaining_s > 0.2 and task_ids:
        improved = solve_ortools(model, task_ids, allowed, budget_s=remaining_s, initial_routes=routes)
        candidate = assemble(model, improved, reasons)
        if _better(candidate, greedy):
            greedy = candidate
    greedy.engine = "dynamic"
    greedy.solve_seconds = time.perf_counter() - started
    return greedy


def _better(a: Solution, b: Solution) -> bool:
    if len(a.unassigned) != len(b.unassigned):
        return len(a.unassigned) < len(b.unassigned)
    return a.cost < b.cost and all(r.time_warp == 0 for r in a.routes)


def _as_tasks(remaining, cancelled, live: Problem) -> list[tuple[str, int]]:
    out = []
    pickups = {s.pickup.id for s in live.shipments}
    for kind, ident in remaining:
        if kind == "job" and ident in cancelled:
            continue
        if kind == "delivery" and not any(s.delivery.id == ident for s in live.shipments):
            out.append(("job", ident))  # pickup already done: now a plain delivery job
        elif kind != "pickup" or ident in pickups:
            out.append((kind, ident))
    return out


def live_problem(
    problem: Problem,
    states: list[VehicleState],
    new_jobs: list[Job] | tuple[Job, ...],
    cancelled: set[int] | frozenset[int],
) -> Problem:
    """The remaining problem: live vehicle starts, pinned stops, new and orphaned jobs.

    Arguments as :func:`reoptimise`'s; each vehicle's shift starts at its ``available_at`` (s)
    and its travel-time (s) and distance (m) limits shrink by what it has travelled.
    """
    state_of = {s.vehicle_id: s for s in states}
    pin: dict[tuple[str, int], int] = {}
    wanted: set[tuple[str, int]] = set()
    for v, vehicle in enumerate(problem.vehicles):
        state = state_of.get(vehicle.id)
        for key in state.remaining if state else []:
            wanted.add(key)
            if not state.broken_down:
                pin[key] = -(v + 1)  # negative skills never clash with user skills
    vehicles = [
        _live_vehicle(v, veh, state_of.get(veh.id))
        for v, veh in enumerate(problem.vehicles)
        if not (veh.id in state_of and state_of[veh.id].broken_down)
    ]
    jobs = [
        _pinned(j, pin.get(("job", j.id))) for j in problem.jobs if ("job", j.id) in wanted and j.id not in cancelled
    ]
    shipments = []
    for s in problem.shipments:
        if ("pickup", s.pickup.id) in wanted:
            skill = pin.get(("pickup", s.pickup.id))
            shipments.append(replace(s, skills=s.skills | ({skill} if skill else set())))
        elif ("delivery", s.delivery.id) in wanted:
            d = s.delivery
            job = Job(
                d.id,
                d.place,
                d.service_s,
                d.setup_s,
                list(s.amount),
                [],
                s.skills,
                s.priority,
                d.time_windows,
                d.soft_window,
                d.lateness_cost_per_hour,
            )
            jobs.append(_pinned(job, pin.get(("delivery", d.id))))
    jobs += list(new_jobs)
    return Problem(jobs=jobs, shipments=shipments, vehicles=vehicles, matrices=problem.matrices)


def _pinned(job: Job, skill: int | None) -> Job:
    return job if skill is None else replace(job, skills=job.skills | {skill})


def _live_vehicle(v: int, vehicle: Vehicle, state: VehicleState | None) -> Vehicle:
    skills = vehicle.skills | {-(v + 1)}
    if state is None:
        return replace(vehicle, skills=skills)
    shift_end = (vehicle.time_window or (0, 10**9))[1]
    return replace(
        vehicle,
        start=state.position,
        skills=skills,
        time_window=(state.available_at, max(shift_end, state.available_at)),
        breaks=[b for b in vehicle.breaks if b.id not in state.breaks_taken],
        max_travel_time_s=None
        if vehicle.max_travel_time_s is None
        else max(0, vehicle.max_travel_time_s - state.travelled_s),
        max_distance_m=None if vehicle.max_distance_m is None else max(0, vehicle.max_distance_m - state.travelled_m),
    )
