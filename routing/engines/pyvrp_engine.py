"""PyVRP (iterated local search, HGS lineage) engine for problems within its feature set.

Supported here: jobs with delivery/pickup vectors, one hard window each, service times,
heterogeneous vehicle types (capacity, shift, fixed cost, per-hour/per-km costs through
the arc cost matrix, max distance, overtime), several depots / start≠end, optional jobs
(prizes), shipments (PyVRP 0.14 ``Shipment``). Not supported (→ OR-Tools): breaks,
skills, several windows per stop, soft windows, setup times, open routes, max travel
time, max tasks, custom cost matrices.

When some vehicle has a fixed cost, the search runs in phases that try to serve every stop
with one route fewer (:mod:`routing.engines.fewer_routes`); otherwise it is PyVRP's own.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import numpy as np
import pyvrp
from pyvrp.exceptions import PenaltyBoundWarning
from pyvrp.stop import StoppingCriterion

from routing.engines import fewer_routes
from routing.model import COST_SCALE, HORIZON, Model

# A cost no feasible solution reaches: PyVRP reports it for infeasible best solutions.
_INFEASIBLE = np.iinfo(np.int64).max // 4


def unsupported_features(model: Model, allowed: dict[int, list[int]]) -> list[str]:
    """Features of ``model`` that this engine cannot express (empty = supported)."""
    found = []
    tasks = model.tasks
    if any(len(t.windows) > 1 for t in tasks):
        found.append("multiple time windows")
    if any(t.soft_window is not None for t in tasks):
        found.append("soft windows")
    if any(t.setup for t in tasks):
        found.append("setup times")
    all_vehicles = len(model.vehicles)
    if any(len(v) != all_vehicles for v in allowed.values()):
        found.append("skills or vehicle eligibility")
    for veh in model.vehicles:
        for name, present in (
            ("breaks", bool(veh.breaks)),
            ("open routes", veh.end is None or veh.start is None),
            ("max travel time", veh.max_travel is not None),
            ("max tasks", veh.max_tasks is not None),
            ("custom cost matrices", veh.custom_costs),
        ):
            if present and name not in found:
                found.append(name)
    return found


class _Stop(StoppingCriterion):
    """Time budget, cancellation and progress reporting in one PyVRP stopping criterion.

    The budget can be cut into phases (:meth:`phase`), one per ``pyvrp.solve`` call."""

    def __init__(self, budget_s, started, on_progress, should_stop, max_iterations, g):
        self.scale = g / COST_SCALE
        self.budget_s, self.started = budget_s, started
        self.on_progress, self.should_stop = on_progress, should_stop
        self.max_iterations = max_iterations
        self.iterations = 0
        self.best = None
        self.cancelled = False
        # Where the current phase ends (elapsed s, iteration count) and when it first asked.
        self.phase_end_s, self.phase_end_iteration = budget_s, max_iterations
        self.first_call_at: float | None = None
        self.phase_called_at, self.whole_if_setup_over_s = started, None
        # Seconds after which a search that found nothing feasible gives up (None: never).
        self.infeasible_after_s: float | None = None

    def phase(self, share: float | None, whole_if_setup_over_s: float | None = None) -> None:
        """The next search ends after ``share`` of the whole budget (None: at its end), or at
        the budget's end if PyVRP's set-up before its first iteration takes longer than
        ``whole_if_setup_over_s`` (time budgets only)."""
        self.first_call_at = None
        self.phase_called_at = time.perf_counter()
        self.whole_if_setup_over_s = whole_if_setup_over_s
        if share is None:
            self.phase_end_s, self.phase_end_iteration = self.budget_s, self.max_iterations
            return
        elapsed = time.perf_counter() - self.started
        self.phase_end_s = min(self.budget_s, elapsed + share * self.budget_s)
        if self.max_iterations is not None:
            self.phase_end_iteration = min(self.max_iterations, self.iterations + int(share * self.max_iterations))

    def has_left(self, share: float) -> bool:
        """True when more than ``share`` of the budget is left and the search was not cancelled."""
        if self.cancelled:
            return False
        if self.max_iterations is not None:
            return self.max_iterations - self.iterations > share * self.max_iterations
        return self.budget_s - (time.perf_counter() - self.started) > share * self.budget_s

    def __call__(self, best_cost: int) -> bool:
        self.iterations += 1
        now = time.perf_counter()
        if self.first_call_at is None:
            self.first_call_at = now
            limit = self.whole_if_setup_over_s
            if limit is not None and self.max_iterations is None and now - self.phase_called_at > limit:
                self.phase_end_s = self.budget_s
        elapsed = now - self.started
        if best_cost < _INFEASIBLE and (self.best is None or best_cost < self.best):
            self.best = best_cost
            if self.on_progress is not None:
                self.on_progress(elapsed, best_cost * self.scale)
        if self.max_iterations is not None:
            return self.iterations > self.phase_end_iteration
        if self.should_stop is not None and self.should_stop():
            self.cancelled = True
            return True
        if self.best is None and self.infeasible_after_s is not None and elapsed >= self.infeasible_after_s:
            return True
        return elapsed >= self.phase_end_s


def cost_divisor(model: Model, task_ids: list[int]) -> int:
    """Common divisor of every cost figure: PyVRP's penalty tuning expects costs on the
    same scale as time warps, and the ×36000 scaling would make them look tiny."""
    # Vehicles sharing a matrix and unit costs share an arc cost matrix: one n² pass each.
    first_of: dict[tuple, int] = {}
    for v, veh in enumerate(model.vehicles):
        first_of.setdefault((veh.matrix_key, veh.per_s, veh.per_m, veh.custom_costs), v)
    values = [int(np.gcd.reduce(model.arc_cost(v), axis=None)) for v in first_of.values()]
    values += [x for veh in model.vehicles for x in (veh.fixed, veh.overtime_per_s)]
    if any(veh.max_distance is not None for veh in model.vehicles):
        values += [x for veh in model.vehicles for x in (veh.per_s, veh.per_m)]
    values += [model.tasks[i].penalty for i in task_ids if model.tasks[i].optional]
    divisor = int(np.gcd.reduce([x for x in values if x] or [1]))
    return max(1, divisor)


def _profiles(model: Model, g: int) -> tuple[list[tuple], list[np.ndarray], list[np.ndarray]]:
    keys, distances, durations = [], [], []
    for v, veh in enumerate(model.vehicles):
        key = (veh.matrix_key, veh.per_s, veh.per_m)
        if key not in keys:
            keys.append(key)
            # The arc cost goes in PyVRP's distance slot, so its objective is ours exactly.
            distances.append(model.arc_cost(v) // g)
            durations.append(model.duration(v))
    return keys, distances, durations


def _client(t, required: bool, g: int) -> pyvrp.Client:
    early, late = t.windows[0] if t.windows else (0, HORIZON)
    return pyvrp.Client(
        location=t.loc,
        delivery=t.delivery.tolist(),
        pickup=t.pickup.tolist(),
        service_duration=t.service,
        tw_early=early,
        tw_late=late,
        prize=max(1, t.penalty // g),
        required=required and not t.optional,
    )


def _shipment(pickup, delivery, required: bool, g: int) -> pyvrp.Shipment:
    p_early, p_late = pickup.windows[0] if pickup.windows else (0, HORIZON)
    d_early, d_late = delivery.windows[0] if delivery.windows else (0, HORIZON)
    return pyvrp.Shipment(
        pickup_location=pickup.loc,
        delivery_location=delivery.loc,
        pickup_tw_early=p_early,
        pickup_tw_late=p_late,
        pickup_service_duration=pickup.service,
        delivery_tw_early=d_early,
        delivery_tw_late=d_late,
        delivery_service_duration=delivery.service,
        amount=pickup.pickup.tolist(),
        prize=max(1, pickup.penalty // g),
        required=required and not pickup.optional,
    )


def _vehicle_type(veh, profile: int, depot_of: dict, g: int) -> pyvrp.VehicleType:
    return pyvrp.VehicleType(
        num_available=1,
        capacity=veh.capacity.tolist(),
        start_depot=depot_of[veh.start],
        end_depot=depot_of[veh.end],
        fixed_cost=veh.fixed // g,
        tw_early=veh.shift[0],
        tw_late=veh.shift[1] + veh.max_overtime,
        shift_duration=veh.shift[1] - veh.shift[0],
        max_overtime=veh.max_overtime,
        unit_overtime_cost=veh.overtime_per_s // g,
        unit_distance_cost=1,
        profile=profile,
        max_distance=HORIZON * 1000 if veh.max_distance is None else veh.max_distance,
    )


def build_data(
    model: Model, task_ids: list[int], required: bool, g: int
) -> tuple[pyvrp.ProblemData, list[int], list[int]]:
    """PyVRP data over ``model.places`` (costs divided by ``g``), with the task indices of
    its clients and of its shipments' pickups, in PyVRP's order."""
    keys, distances, durations = _profiles(model, g)
    depot_locs = sorted({loc for v in model.vehicles for loc in (v.start, v.end)})
    depot_of = {loc: k for k, loc in enumerate(depot_locs)}
    depots = [pyvrp.Depot(location=loc) for loc in depot_locs]
    job_ids = [i for i in task_ids if model.tasks[i].kind == "job"]
    pickup_ids = [i for i in task_ids if model.tasks[i].kind == "pickup"]
    clients = [_client(model.tasks[i], required, g) for i in job_ids]
    shipments = [_shipment(model.tasks[i], model.tasks[model.tasks[i].partner], required, g) for i in pickup_ids]
    types = [
        _vehicle_type(veh, keys.index((veh.matrix_key, veh.per_s, veh.per_m)), depot_of, g) for veh in model.vehicles
    ]
    if any(v.max_distance is not None for v in model.vehicles):
        types, distances, durations = _with_range(model, types, g)
    locations = [pyvrp.Location(0, 0) for _ in model.places]
    data = pyvrp.ProblemData(locations, clients, depots, _merge(types), distances, durations, shipments=shipments)
    return data, job_ids, pickup_ids


def _with_range(model, types, g):
    # max_distance needs real metres in the distance slot: costs then come from unit
    # costs (PyVRP's duration cost includes service and waiting, a small deviation).
    metre_profiles, new_types = [], []
    for v, vtype in enumerate(types):
        veh = model.vehicles[v]
        dist = model.distance(v)
        match = next((k for k, m in enumerate(metre_profiles) if m is dist), None)
        if match is None:
            metre_profiles.append(dist)
            match = len(metre_profiles) - 1
        new_types.append(
            vtype.replace(profile=match, unit_distance_cost=veh.per_m // g, unit_duration_cost=veh.per_s // g)
        )
    durs = [model.durations[model.vehicles[0].matrix_key]] * len(metre_profiles)
    for v in range(len(model.vehicles)):
        durs[new_types[v].profile] = model.duration(v)
    return new_types, metre_profiles, durs


def _merge(types: list[pyvrp.VehicleType]) -> list[pyvrp.VehicleType]:
    # Identical vehicles become one type with num_available > 1 (smaller search space);
    # names keep the model's vehicle indices.
    merged: list[pyvrp.VehicleType] = []
    members: list[list[int]] = []
    for v, vtype in enumerate(types):
        for k, other in enumerate(merged):
            if other == vtype:
                members[k].append(v)
                break
        else:
            merged.append(vtype)
            members.append([v])
    return [
        vtype.replace(num_available=len(m), name=",".join(map(str, m)))
        for vtype, m in zip(merged, members, strict=True)
    ]


def solve_pyvrp(
    model: Model,
    task_ids: list[int],
    *,
    budget_s: float,
    seed: int,
    on_progress: Callable | None,
    should_stop: Callable | None,
    max_iterations: int | None = None,
) -> dict[int, list[int]]:
    """Routes as ``{model vehicle index: [task indices]}`` within ``budget_s`` seconds."""
    started = time.perf_counter()
    g = cost_divisor(model, task_ids)
    data, job_ids, pickup_ids = build_data(model, task_ids, required=True, g=g)
    stop = _Stop(budget_s, started, on_progress, should_stop, max_iterations, g)
    # Mandatory stops may not fit together at all: if nothing feasible turns up in the first
    # 40% of the budget, keep the rest for a search that may leave stops out.
    stop.infeasible_after_s = None if max_iterations is not None else 0.4 * budget_s
    with warnings.catch_warnings():
        # An overloaded instance maxes out PyVRP's penalties; the fallback below handles it.
        warnings.simplefilter("ignore", PenaltyBoundWarning)
        if fewer_routes.worth_trying(data):
            best = fewer_routes.solve_with_fewer_routes(data, stop, seed)
        else:
            best = pyvrp.solve(data, stop=stop, seed=seed, collect_stats=False).best
    if not best.is_feasible() and not stop.cancelled and time.perf_counter() - started < budget_s:
        # Mandatory stops that do not fit together: let PyVRP leave some out (big prizes).
        data, job_ids, pickup_ids = build_data(model, task_ids, required=False, g=g)
        stop.budget_s = budget_s - (time.perf_counter() - started)
        stop.started = time.perf_counter()
        stop.infeasible_after_s = None
        stop.phase(None)
        # Penalties must be able to exceed the prizes, or carrying too much beats leaving a stop out.
        top_prize = max([c.prize for c in data.clients()] + [1])
        params = pyvrp.SolveParams(penalty=pyvrp.PenaltyParams(max_penalty=max(1e5, 4.0 * top_prize)))
        best = pyvrp.solve(data, stop=stop, seed=seed, collect_stats=False, params=params).best
    if not best.is_feasible():
        return {}
    return _routes(model, data, best, job_ids, pickup_ids)


def _routes(model, data, solution, job_ids, pickup_ids) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    free = {k: list(map(int, vt.name.split(","))) for k, vt in enumerate(data.vehicle_types())}
    for route in solution.routes():
        v = free[route.vehicle_type()].pop(0)
        seq = []
        for a in route:
            if a.is_client():
                seq.append(job_ids[a.idx])
            elif a.is_pickup():
                seq.append(pickup_ids[a.idx])
            elif a.is_delivery():
                seq.append(model.tasks[pickup_ids[a.idx]].partner)
        out[v] = seq
    return out
