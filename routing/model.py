"""Index-based compilation of a :class:`~routing.problem.Problem` used by the engines.

Every job becomes one task, every shipment two (pickup then delivery). Every place
becomes a row of per-vehicle integer matrices (durations in seconds after the vehicle's
speed factor, distances in metres). Costs are kept as exact integers scaled by
:data:`COST_SCALE` so that per-hour, per-km and lateness costs mix without rounding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from routing.problem import Break, Job, Place, Problem, Shipment, ShipmentStep, Window
from routing.travel import GreatCircleProvider, TravelProvider

# cost units × 36000 = per_hour × seconds × 10 = per_km × metres × 36, all integers.
COST_SCALE = 36_000
PER_SECOND = 10  # scaled cost of one second at per_hour = 1
PER_METRE = 36  # scaled cost of one metre at per_km = 1
HORIZON = 10**9  # "no limit" for times, seconds (about 31 years)
# Penalty for leaving out a mandatory task: dominates any realistic route cost.
MANDATORY_PENALTY = 10**13


@dataclass
class Task:
    """A visit: a job, or one side of a shipment (``partner`` links the two)."""

    kind: str  # job | pickup | delivery
    id: int
    loc: int
    place: Place
    service: int
    setup: int
    windows: list[Window]
    soft_window: Window | None
    lateness_per_s: int  # scaled cost per second late
    delivery: np.ndarray  # load removed at this visit (jobs: loaded at start)
    pickup: np.ndarray  # load added at this visit
    skills: frozenset[int]
    priority: int
    penalty: int  # scaled cost of leaving it out
    optional: bool
    partner: int | None = None


@dataclass
class Fleet:
    """Compiled vehicle: locations are matrix rows, costs scaled integers."""

    id: int
    start: int | None
    end: int | None
    shift: Window
    capacity: np.ndarray
    skills: frozenset[int]
    breaks: list[Break]
    matrix_key: tuple[str, float]
    fixed: int
    per_s: int
    per_m: int
    max_travel: int | None
    max_distance: int | None
    max_tasks: int | None
    max_overtime: int
    overtime_per_s: int
    custom_costs: bool = False


@dataclass
class Model:
    """Tasks, vehicles and matrices of one problem."""

    tasks: list[Task]
    vehicles: list[Fleet]
    places: list[Place]
    durations: dict[tuple[str, float], np.ndarray]
    distances: dict[tuple[str, float], np.ndarray]
    costs: dict[tuple[str, float], np.ndarray] = field(default_factory=dict)
    dims: int = 0

    def __post_init__(self) -> None:
        self.task_by_key = {(t.kind, t.id): t for t in self.tasks}

    def duration(self, v: int) -> np.ndarray:
        return self.durations[self.vehicles[v].matrix_key]

    def distance(self, v: int) -> np.ndarray:
        return self.distances[self.vehicles[v].matrix_key]

    def arc_cost(self, v: int) -> np.ndarray:
        """Scaled travel cost matrix of vehicle ``v`` (int64)."""
        veh = self.vehicles[v]
        if veh.custom_costs:
            return self.costs[veh.matrix_key] * COST_SCALE
        return self.duration(v) * veh.per_s + self.distance(v) * veh.per_m


def _vec(values: list[int], dims: int) -> np.ndarray:
    out = np.zeros(dims, dtype=np.int64)
    out[: len(values)] = values
    return out


def _penalty(drop_cost: int | None, priority: int) -> tuple[int, bool]:
    # Mandatory tasks: higher priority is dropped last, like VROOM's priority rule.
    if drop_cost is None:
        return MANDATORY_PENALTY * (100 + priority) // 100, False
    return drop_cost * COST_SCALE, True


class _PlaceTable:
    def __init__(self) -> None:
        self.places: list[Place] = []
        self._by_key: dict[object, int] = {}

    def add(self, place: Place | None) -> int | None:
        if place is None:
            return None
        key = place.index if place.index is not None else place.coordinates
        if key not in self._by_key:
            self._by_key[key] = len(self.places)
            self.places.append(place)
        return self._by_key[key]


def job_task(job: Job, loc: int, dims: int) -> Task:
    penalty, optional = _penalty(job.drop_cost, job.priority)
    return Task(
        "job",
        job.id,
        loc,
        job.place,
        job.service_s,
        job.setup_s,
        list(job.time_windows),
        job.soft_window,
        job.lateness_cost_per_hour * PER_SECOND,
        _vec(job.delivery, dims),
        _vec(job.pickup, dims),
        job.skills,
        job.priority,
        penalty,
        optional,
    )


def _shipment_tasks(shipment: Shipment, locs: tuple[int, int], dims: int, first: int) -> list:
    penalty, optional = _penalty(shipment.drop_cost, shipment.priority)
    zero, amount = np.zeros(dims, dtype=np.int64), _vec(shipment.amount, dims)
    out = []
    for kind, step, loc, delivery, pickup, partner in (
        ("pickup", shipment.pickup, locs[0], zero, amount, first + 1),
        ("delivery", shipment.delivery, locs[1], amount, zero, first),
    ):
        s: ShipmentStep = step
        out.append(
            Task(
                kind,
                s.id,
                loc,
                s.place,
                s.service_s,
                s.setup_s,
                list(s.time_windows),
                s.soft_window,
                s.lateness_cost_per_hour * PER_SECOND,
                delivery,
                pickup,
                shipment.skills,
                shipment.priority,
                penalty,
                optional,
                partner,
            )
        )
    return out


def compile_problem(problem: Problem, provider: TravelProvider | None = None) -> Model:
    """Compile a validated problem; ``provider`` computes matrices when none are given."""
    # Amounts count too: without vehicles there are no capacities, yet the jobs still compile.
    amounts = [len(j.delivery) for j in problem.jobs] + [len(j.pickup) for j in problem.jobs]
    amounts += [len(s.amount) for s in problem.shipments]
    dims = max([len(v.capacity) for v in problem.vehicles] + amounts + [0])
    table = _PlaceTable()
    tasks: list[Task] = []
    for job in problem.jobs:
        tasks.append(job_task(job, table.add(job.place), dims))
    for shipment in problem.shipments:
        locs = (table.add(shipment.pickup.place), table.add(shipment.delivery.place))
        tasks.extend(_shipment_tasks(shipment, locs, dims, len(tasks)))
    fleet = [_compile_vehicle(v, table, dims) for v in problem.vehicles]
    model = Model(tasks, fleet, table.places, {}, {}, dims=dims)
    _fill_matrices(model, problem, provider or GreatCircleProvider())
    return model


def _compile_vehicle(v, table: _PlaceTable, dims: int) -> Fleet:
    shift = v.time_window or (0, HORIZON)
    costs = v.costs
    return Fleet(
        v.id,
        table.add(v.start),
        table.add(v.end),
        shift,
        _vec(v.capacity, dims),
        v.skills,
        list(v.breaks),
        (v.profile, float(v.speed_factor)),
        costs.fixed * COST_SCALE,
        costs.per_hour * PER_SECOND,
        costs.per_km * PER_METRE,
        v.max_travel_time_s,
        v.max_distance_m,
        v.max_tasks,
        v.max_overtime_s,
        v.overtime_cost_per_hour * PER_SECOND,
    )


def _fill_matrices(model: Model, problem: Problem, provider: TravelProvider) -> None:
    index = [p.index for p in model.places]
    for veh in model.vehicles:
        key = veh.matrix_key
        if key in model.durations:
            continue
        profile, speed = key
        given = problem.matrices.get(profile)
        if given is not None and given.durations is not None:
            rows = np.asarray(index, dtype=np.int64)
            dur = _rows_of(given.durations, rows)
            dist = _rows_of(given.distances, rows) if given.distances is not None else np.zeros_like(dur)
            if given.costs is not None:
                model.costs[key] = _rows_of(given.costs, rows)
                np.fill_diagonal(model.costs[key], 0)
        else:
            coords = [p.coordinates for p in model.places]
            latlng = [(c[1], c[0]) for c in coords]  # type: ignore[index]
            dur32, dist32 = provider.matrices(latlng, profile)
            dur, dist = dur32.astype(np.int64), dist32.astype(np.int64)
        if speed != 1.0:
            dur = np.rint(dur / speed).astype(np.int64)
        # Staying at one place takes no travel, whatever a given matrix's diagonal says
        # (PyVRP rejects non-zero diagonals; the verifier applies the same rule).
        np.fill_diagonal(dur, 0)
        np.fill_diagonal(dist, 0)
        model.durations[key] = dur
        model.distances[key] = dist
    for veh in model.vehicles:
        veh.custom_costs = veh.matrix_key in model.costs


def _rows_of(matrix, rows: np.ndarray) -> np.ndarray:
    """A new int64 array of ``matrix`` restricted to ``rows`` (rows and columns)."""
    out = np.array(matrix, dtype=np.int64)
    if len(out) == len(rows) and np.array_equal(rows, np.arange(len(rows))):
        return out  # every place in matrix order (the usual case): no second n² copy
    return out[np.ix_(rows, rows)]
