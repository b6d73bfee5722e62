"""OR-Tools routing engine covering the whole problem model.

Matrices are registered natively (``RegisterTransitMatrix``/``RegisterUnaryTransitVector``)
so no Python runs per arc evaluation. Every task has a disjunction: unservable stops are
dropped at their penalty instead of the whole search failing (ANCHORS.md: arc-based first
solutions find nothing on tight windows), and the first solution is built by parallel
cheapest insertion, improved by guided local search until the budget ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing.model import COST_SCALE, HORIZON, Model


class _Nodes:
    """Routing nodes: the tasks first, then a start and an end node per vehicle."""

    def __init__(self, model: Model, task_ids: list[int]) -> None:
        self.task_ids = task_ids
        n_tasks, n_veh = len(task_ids), len(model.vehicles)
        locs = [model.tasks[i].loc for i in task_ids]
        for veh in model.vehicles:
            locs += [-1 if veh.start is None else veh.start, -1 if veh.end is None else veh.end]
        self.loc = np.asarray(locs, dtype=np.int64)
        self.starts = [n_tasks + 2 * v for v in range(n_veh)]
        self.ends = [n_tasks + 2 * v + 1 for v in range(n_veh)]
        self.service = np.zeros(len(locs), dtype=np.int64)
        self.setup = np.zeros(len(locs), dtype=np.int64)
        for k, i in enumerate(task_ids):
            self.service[k] = model.tasks[i].service
            self.setup[k] = model.tasks[i].setup

    def expand(self, matrix: np.ndarray) -> np.ndarray:
        """Place matrix → node matrix; missing (open) ends cost nothing."""
        safe = np.where(self.loc < 0, 0, self.loc)
        out = matrix[np.ix_(safe, safe)].astype(np.int64)
        dummy = self.loc < 0
        out[dummy, :] = 0
        out[:, dummy] = 0
        return out


class _Builder:
    def __init__(self, model: Model, task_ids: list[int], allowed: dict[int, list[int]]):
        self.model, self.nodes, self.allowed = model, _Nodes(model, task_ids), allowed
        self.manager = pywrapcp.RoutingIndexManager(
            len(self.nodes.loc), len(model.vehicles), self.nodes.starts, self.nodes.ends
        )
        self.routing = pywrapcp.RoutingModel(self.manager)
        self._cache: dict[tuple, int] = {}

    def matrix_callback(self, key: tuple, make: Callable[[], np.ndarray]) -> int:
        if key not in self._cache:
            self._cache[key] = self.routing.RegisterTransitMatrix(make().tolist())
        return self._cache[key]

    def per_vehicle(self, kind: str, make: Callable[[int], np.ndarray]) -> list[int]:
        out = []
        for v, veh in enumerate(self.model.vehicles):
            key = (kind, veh.matrix_key, veh.per_s, veh.per_m, veh.custom_costs)
            if kind != "cost":
                key = (kind, veh.matrix_key)
            out.append(self.matrix_callback(key, lambda v=v: make(v)))
        return out

    def index(self, k: int) -> int:
        return self.manager.NodeToIndex(k)

    def build(self) -> None:
        routing, model, nodes = self.routing, self.model, self.nodes
        costs = self.per_vehicle("cost", lambda v: nodes.expand(model.arc_cost(v)))
        for v, veh in enumerate(model.vehicles):
            routing.SetArcCostEvaluatorOfVehicle(costs[v], v)
            routing.SetFixedCostOfVehicle(int(veh.fixed), v)
        self.time = self._time_dimension()
        self._load_dimensions()
        self._limit_dimensions()
        self._tasks()
        self._breaks()

    def _time_transit(self, v: int) -> np.ndarray:
        nodes = self.nodes
        travel = nodes.expand(self.model.duration(v))
        moved = nodes.loc[:, None] != nodes.loc[None, :]
        return travel + nodes.service[:, None] + nodes.setup[None, :] * moved

    def _time_dimension(self):
        routing, model = self.routing, self.model
        transits = self.per_vehicle("time", self._time_transit)
        routing.AddDimensionWithVehicleTransits(transits, HORIZON, HORIZON, False, "time")
        time = routing.GetDimensionOrDie("time")
        for v, veh in enumerate(model.vehicles):
            start, end = routing.Start(v), routing.End(v)
            time.CumulVar(start).SetRange(veh.shift[0], veh.shift[1])
            time.CumulVar(end).SetRange(veh.shift[0], veh.shift[1] + veh.max_overtime)
            if veh.max_overtime:
                time.SetCumulVarSoftUpperBound(end, veh.shift[1], int(veh.overtime_per_s))
            routing.AddVariableMaximizedByFinalizer(time.CumulVar(start))
            routing.AddVariableMinimizedByFinalizer(time.CumulVar(end))
        return time

    def _load_dimensions(self) -> None:
        routing, model, nodes = self.routing, self.model, self.nodes
        solver = routing.solver()
        tasks = [model.tasks[i] for i in nodes.task_ids]
        extra = len(nodes.loc) - len(tasks)
        for d in range(model.dims):
            net = [int(t.pickup[d] - t.delivery[d]) for t in tasks] + [0] * extra
            caps = [int(veh.capacity[d]) for veh in model.vehicles]
            cb = routing.RegisterUnaryTransitVector(net)
            routing.AddDimensionWithVehicleCapacity(cb, 0, caps, False, f"load{d}")
            load = routing.GetDimensionOrDie(f"load{d}")
            job_pickups = [int(t.pickup[d]) if t.kind == "job" else 0 for t in tasks]
            mixed = any(t.kind == "job" and t.delivery[d] for t in tasks) and any(t.pickup[d] for t in tasks)
            if not mixed:
                continue
            # Jobs' deliveries are all on board at the start: pin the start load to their
            # sum by requiring end load == job pickups collected on the route.
            cb2 = routing.RegisterUnaryTransitVector(job_pickups + [0] * extra)
            routing.AddDimension(cb2, 0, int(sum(job_pickups)) + 1, True, f"picked{d}")
            picked = routing.GetDimensionOrDie(f"picked{d}")
            for v in range(len(model.vehicles)):
                end = routing.End(v)
                solver.Add(load.CumulVar(end) == picked.CumulVar(end))

    def _limit_dimensions(self) -> None:
        routing, model, nodes = self.routing, self.model, self.nodes
        vehicles = model.vehicles
        if any(v.max_distance is not None for v in vehicles):
            cbs = self.per_vehicle("distance", lambda v: nodes.expand(model.distance(v)))
            caps = [HORIZON if v.max_distance is None else v.max_distance for v in vehicles]
            routing.AddDimensionWithVehicleTransitAndCapacity(cbs, 0, caps, True, "distance")
        if any(v.max_travel is not None for v in vehicles):
            cbs = self.per_vehicle("travel", lambda v: nodes.expand(model.duration(v)))
            caps = [HORIZON if v.max_travel is None else v.max_travel for v in vehicles]
            routing.AddDimensionWithVehicleTransitAndCapacity(cbs, 0, caps, True, "travel")
        if any(v.max_tasks is not None for v in vehicles):
            ones = [1] * len(nodes.task_ids) + [0] * (len(nodes.loc) - len(nodes.task_ids))
            cb = routing.RegisterUnaryTransitVector(ones)
            caps = [len(ones) if v.max_tasks is None else v.max_tasks for v in vehicles]
            routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, "tasks")

    def _tasks(self) -> None:
        routing, model, time = self.routing, self.model, self.time
        solver = routing.solver()
        position = {i: k for k, i in enumerate(self.nodes.task_ids)}
        n_vehicles = len(model.vehicles)
        for k, i in enumerate(self.nodes.task_ids):
            task, index = model.tasks[i], self.index(k)
            routing.AddDisjunction([index], int(task.penalty))
            self._windows(time.CumulVar(index), task)
            if task.soft_window is not None and task.lateness_per_s:
                time.SetCumulVarSoftUpperBound(index, task.soft_window[1], task.lateness_per_s)
            allowed = self.allowed.get(i, list(range(n_vehicles)))
            if len(allowed) < n_vehicles:
                # -1 keeps the stop droppable (its disjunction decides the price).
                routing.VehicleVar(index).SetValues([-1, *allowed])
            if task.kind == "pickup" and task.partner in position:
                other = self.index(position[task.partner])
                routing.AddPickupAndDelivery(index, other)
                solver.Add(routing.VehicleVar(index) == routing.VehicleVar(other))
                solver.Add(routing.ActiveVar(index) == routing.ActiveVar(other))
                solver.Add(time.CumulVar(index) <= time.CumulVar(other))

    @staticmethod
    def _windows(cumul, task) -> None:
        low = task.soft_window[0] if task.soft_window is not None else 0
        windows = sorted(task.windows) or [(0, HORIZON)]
        cumul.SetRange(max(low, windows[0][0]), max(windows[-1][1], low))
        for (_, b), (a, _) in zip(windows, windows[1:], strict=False):
            if a > b + 1:
                cumul.RemoveInterval(b + 1, a - 1)

    def _breaks(self) -> None:
        routing, model, nodes = self.routing, self.model, self.nodes
        if not any(v.breaks for v in model.vehicles):
            return
        solver = routing.solver()
        visit = [0] * routing.Size()
        for index in range(routing.Size()):
            node = self.manager.IndexToNode(index)
            visit[index] = int(nodes.service[node])
        for v, veh in enumerate(model.vehicles):
            intervals = []
            for brk in veh.breaks:
                windows = brk.time_windows or [veh.shift]
                lo, hi = min(a for a, _ in windows), max(b for _, b in windows)
                intervals.append(solver.FixedDurationIntervalVar(lo, hi, brk.service_s, False, f"b{v}.{brk.id}"))
            if intervals:
                self.time.SetBreakIntervalsOfVehicle(intervals, v, visit)


class _Reporter:
    """Report improvements only: GLS also accepts worse solutions along the way."""

    def __init__(self, routing, started: float, on_progress: Callable) -> None:
        self.routing, self.started, self.on_progress = routing, started, on_progress
        self.best: int | None = None

    def __call__(self) -> None:
        cost = self.routing.CostVar().Max()
        if self.best is None or cost < self.best:
            self.best = cost
            self.on_progress(time.perf_counter() - self.started, cost / COST_SCALE)


def _parameters(budget_s: float, max_iterations: int | None):
    params = pywrapcp.DefaultRoutingSearchParameters()
    strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    params.first_solution_strategy = strategy
    meta = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.local_search_metaheuristic = meta
    params.time_limit.FromMilliseconds(max(1, int(budget_s * 1000)))
    if max_iterations is not None:
        params.solution_limit = max_iterations
    return params


def solve_ortools(
    model: Model,
    task_ids: list[int],
    allowed: dict[int, list[int]],
    *,
    budget_s: float,
    on_progress: Callable | None = None,
    should_stop: Callable | None = None,
    max_iterations: int | None = None,
    initial_routes: dict[int, list[int]] | None = None,
) -> dict[int, list[int]]:
    """Routes as ``{vehicle index: [task indices]}``; budget in seconds (incl. model build)."""
    started = time.perf_counter()
    builder = _Builder(model, task_ids, allowed)
    builder.build()
    routing = builder.routing
    if on_progress is not None:
        routing.AddAtSolutionCallback(_Reporter(routing, started, on_progress))
    if should_stop is not None:
        routing.AddSearchMonitor(routing.solver().CustomLimit(should_stop))
    params = _parameters(budget_s - (time.perf_counter() - started), max_iterations)
    solution = _solve_from(builder, initial_routes or {}, params)
    return _read(builder, solution) if solution is not None else {}


def _solve_from(builder: _Builder, initial_routes: dict[int, list[int]], params):
    if not initial_routes:
        return builder.routing.SolveWithParameters(params)
    position = {i: k for k, i in enumerate(builder.nodes.task_ids)}
    routes = [
        [position[i] for i in initial_routes.get(v, []) if i in position] for v in range(len(builder.model.vehicles))
    ]
    routing = builder.routing
    routing.CloseModelWithParameters(params)
    start = routing.ReadAssignmentFromRoutes(routes, True)
    # A rejected seed returns None: the caller keeps the seed itself, which beats what
    # OR-Tools builds from scratch at the sizes where seeding is used.
    return routing.SolveFromAssignmentWithParameters(start, params) if start else None


def _read(builder: _Builder, solution) -> dict[int, list[int]]:
    routing, manager = builder.routing, builder.manager
    out: dict[int, list[int]] = {}
    for v in range(len(builder.model.vehicles)):
        index = solution.Value(routing.NextVar(routing.Start(v)))
        seq = []
        while not routing.IsEnd(index):
            seq.append(builder.nodes.task_ids[manager.IndexToNode(index)])
            index = solution.Value(routing.NextVar(index))
        if seq:
            out[v] = seq
    return out
