"""Solve a routing problem: pick an engine by the features used, then time the routes.

Engine rule (``engine="auto"``): PyVRP when every feature of the problem is in its set
(see :func:`routing.engines.pyvrp_engine.unsupported_features`), otherwise OR-Tools. On
large OR-Tools problems (over ``SEED_THRESHOLD`` tasks) a PyVRP solution of the relaxed
problem (features PyVRP lacks dropped) seeds OR-Tools when the relaxation is possible.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import numpy as np

from routing.eligibility import eligibility
from routing.engines.ortools_engine import solve_ortools
from routing.engines.pyvrp_engine import solve_pyvrp, unsupported_features
from routing.insertion import greedy_insert
from routing.model import Model, compile_problem
from routing.problem import Problem, Solution, Unassigned
from routing.relax import relax, repair
from routing.schedule import build_route, place_breaks
from routing.travel import TravelProvider
from routing.validation import validate_problem

logger = logging.getLogger(__name__)
ProgressCallback = Callable[[float, float], None]
# From this many tasks on, OR-Tools starts from a PyVRP plan of the relaxed problem,
# which gets this share of the budget.
SEED_THRESHOLD = 100
SEED_SHARE = 0.5
SEED_SHARE_WITH_BREAKS = 0.8
# Time kept back from the engines for timing the routes and building the answer.
_MARGIN_S = 0.05


def solve(
    problem: Problem,
    *,
    budget_s: float,
    seed: int = 0,
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    provider: TravelProvider | None = None,
    engine: str = "auto",
    max_iterations: int | None = None,
) -> Solution:
    """Best routes found within ``budget_s`` seconds of wall time (model building included).

    ``on_progress(elapsed_s, best_cost)`` is called on each improvement (cost units of the
    vehicles' ``costs``; OR-Tools reports its objective incl. drop penalties).
    ``should_stop()`` returning True ends the search early with the best routes so far.
    ``max_iterations`` replaces the time limit by an iteration count, making results
    repeatable for a seed regardless of machine load. ``engine``: auto | pyvrp | ortools.
    Raises :class:`~routing.errors.ProblemValidationError` for an invalid problem; an
    infeasible one returns unassigned tasks with reasons.
    """
    started = time.perf_counter()
    validate_problem(problem)
    model = compile_problem(problem, provider)
    loaded = time.perf_counter()
    allowed, reasons = eligibility(model)
    task_ids = [i for i in range(len(model.tasks)) if i not in reasons]
    chosen = choose_engine(model, allowed)
    if engine == "ortools":
        chosen = engine  # a PyVRP request beyond its features still falls back to OR-Tools
    deadline = started + budget_s - _MARGIN_S
    search = _Search(
        model,
        task_ids,
        allowed,
        deadline,
        seed,
        max_iterations,
        should_stop,
        _Improvements(on_progress) if on_progress else None,
    )
    routes: dict[int, list[int]] = {}
    if task_ids and model.vehicles:
        if chosen == "pyvrp":
            try:
                routes = search.pyvrp()
            except (ValueError, RuntimeError) as error:
                # PyVRP refuses some data shapes; OR-Tools still gives an answer.
                logger.warning("PyVRP failed (%s); solving with OR-Tools", error)
                routes, chosen = search.ortools(None), "ortools"
        elif engine == "auto" and len(task_ids) >= SEED_THRESHOLD:
            routes, chosen = search.seeded_ortools(), "ortools+pyvrp-seed"
        else:
            routes = hold(model, search.ortools(None))
    solution = assemble(model, routes, reasons)
    solution.engine = chosen
    solution.loading_seconds = loaded - started
    solution.solve_seconds = time.perf_counter() - loaded
    return solution


class _Improvements:
    """Pass on strictly improving costs only (the seed and OR-Tools report in turn)."""

    def __init__(self, on_progress: ProgressCallback) -> None:
        self.on_progress, self.best = on_progress, float("inf")

    def __call__(self, elapsed_s: float, cost: float) -> None:
        if cost < self.best:
            self.best = cost
            self.on_progress(elapsed_s, cost)


class _Search:
    def __init__(
        self,
        model,
        task_ids,
        allowed,
        deadline,
        seed,
        max_iterations,
        should_stop,
        on_progress,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.model, self.task_ids, self.allowed = model, task_ids, allowed
        self.deadline, self.seed, self.max_iterations = deadline, seed, max_iterations
        self.should_stop, self.on_progress = should_stop, on_progress
        # Seconds on the same scale as `deadline`; injectable so that budget arithmetic can be
        # checked without depending on how fast the machine is.
        self.clock = clock
        self.repair_s = 0.0  # the longest a seed's repair took: kept back before a second seed

    def left(self) -> float:
        return max(0.01, self.deadline - self.clock())

    def pyvrp(self) -> dict[int, list[int]]:
        return solve_pyvrp(
            self.model,
            self.task_ids,
            budget_s=self.left(),
            seed=self.seed,
            on_progress=self.on_progress,
            should_stop=self.should_stop,
            max_iterations=self.max_iterations,
        )

    def ortools(self, initial) -> dict[int, list[int]]:
        return solve_ortools(
            self.model,
            self.task_ids,
            self.allowed,
            budget_s=self.left(),
            on_progress=self.on_progress,
            should_stop=self.should_stop,
            max_iterations=self.max_iterations,
            initial_routes=initial,
        )

    def seeded_ortools(self) -> dict[int, list[int]]:
        # OR-Tools sometimes cannot complete the breaks of a seed (the seed is then the
        # answer), so PyVRP gets most of the budget when breaks exist.
        breaks = any(v.breaks for v in self.model.vehicles)
        relaxed = relax(self.model, self.allowed)
        share = self.left() * (SEED_SHARE_WITH_BREAKS if breaks else SEED_SHARE)
        initial = self._seed(relaxed, share, self.seed)
        improved = hold(self.model, self.ortools(initial))
        if _served(improved) >= _served(initial):
            return improved
        # Seed rejected: spend what is left on a second relaxed run, keep the cheaper plan.
        if self.max_iterations is None and self.left() > 1.0:
            # Its repair and the comparison run after the search: keep back what the first took.
            other = self._seed(relaxed, max(0.1, self.left() - 2 * self.repair_s), self.seed + 1)
            return min(initial, other, key=lambda r: (-_served(r), self._cost(r)))
        return initial

    def _seed(self, relaxed, budget_s: float, seed: int) -> dict[int, list[int]]:
        routes = solve_pyvrp(
            relaxed,
            self.task_ids,
            budget_s=budget_s,
            seed=seed,
            on_progress=self.on_progress,
            should_stop=self.should_stop,
            max_iterations=self.max_iterations,
        )
        started = self.clock()
        everyone = list(range(len(self.model.vehicles)))
        # A seed stop on a vehicle without its skills would make OR-Tools reject the seed.
        allowed = self.allowed
        routes = {v: [i for i in seq if v in allowed.get(i, everyone)] for v, seq in routes.items()}
        repaired = reinsert(self.model, repair(self.model, routes), self.task_ids)
        self.repair_s = max(self.repair_s, self.clock() - started)
        return repaired

    def _cost(self, routes: dict[int, list[int]]) -> int:
        return assemble(self.model, routes, {}).cost


def _served(routes: dict[int, list[int]]) -> int:
    return sum(len(seq) for seq in routes.values())


def reinsert(model: Model, routes: dict[int, list[int]], task_ids: list[int]) -> dict[int, list[int]]:
    """Put back jobs a repaired seed left out, each at its cheapest place that still fits.

    ``repair`` drops stops that breaks or windows make late. OR-Tools rejects many such
    seeds (all three tried on the 1,000-stop rich city 2), and the seed is then the answer,
    although another route or an idle vehicle often has room (there: one stop left out
    with 18 vehicles idle). Insertions are found on the timed routes (breaks in place) and
    kept only if the routes hold again once their breaks are re-placed.
    """
    served = {i for seq in routes.values() for i in seq}
    missing = [i for i in task_ids if i not in served and model.tasks[i].kind == "job"]
    if not missing:
        return routes
    timed = {v: list(routes.get(v, [])) for v in range(len(model.vehicles))}
    for v, seq in timed.items():
        # An idle vehicle's break counts too: without it an idle van looks as free as a van
        # without breaks, and the repair below then drops the stop again.
        if model.vehicles[v].breaks:
            timed[v] = place_breaks(model, v, seq)
    greedy_insert(model, timed, missing)
    left_out = set(missing)
    changed = {v: [i for i in seq if i >= 0] for v, seq in timed.items() if left_out.intersection(seq)}
    out = dict(routes)
    for v, seq in repair(model, changed).items():
        if len(seq) > len(routes.get(v, [])):
            out[v] = seq
    return out


def hold(model: Model, routes: dict[int, list[int]]) -> dict[int, list[int]]:
    """OR-Tools' routes, made to hold under Waypoint's schedule.

    OR-Tools may take a break in the middle of a drive (a break interval can overlap any
    transit but service), while Waypoint's schedule takes it at a stop, waiting there for
    the break window to open if need be. A route on time for OR-Tools can then be late once
    timed (300-stop rich city 2, seed 2, 20 s: one stop 209 s late). Such a route loses its
    late stops (``repair``), which go back wherever they fit (``reinsert``).
    """
    with_breaks = {v: seq for v, seq in routes.items() if seq and model.vehicles[v].breaks}
    repaired = repair(model, with_breaks)
    dropped = [i for v, seq in with_breaks.items() for i in seq if i not in repaired[v]]
    if not dropped:
        return routes
    logger.info("%d stops late under Waypoint's break timing, re-inserted", len(dropped))
    return reinsert(model, {**routes, **repaired}, dropped)


def choose_engine(model: Model, allowed: dict[int, list[int]]) -> str:
    """``"pyvrp"`` if PyVRP can express the whole problem, else ``"ortools"``."""
    return "ortools" if unsupported_features(model, allowed) else "pyvrp"


def assemble(model: Model, routes: dict[int, list[int]], reasons: dict[int, str]) -> Solution:
    """Time each route and list every unserved task with its reason."""
    solution = Solution()
    served: set[int] = set()
    for v in sorted(routes):
        seq = routes[v]
        if not seq:
            continue
        served.update(seq)
        if model.vehicles[v].breaks:
            seq = place_breaks(model, v, seq)
        solution.routes.append(build_route(model, v, seq))
    for i, task in enumerate(model.tasks):
        if i in served:
            continue
        if i in reasons:
            reason = reasons[i]
        elif not model.vehicles:
            reason = "no_vehicle"
        elif task.optional:
            reason = "dropped_at_cost"
        else:
            reason = "capacity" if _full_everywhere(model, routes, task) else "no_vehicle"
        solution.unassigned.append(Unassigned(task.id, task.kind, reason, task.place.coordinates, task.place.index))
    return solution


def _full_everywhere(model: Model, routes: dict[int, list[int]], task) -> bool:
    """True when the task's load fits on no vehicle next to what that vehicle already carries."""
    demand = np.maximum(task.delivery, task.pickup)
    for v, vehicle in enumerate(model.vehicles):
        seq = routes.get(v, [])
        delivered = sum((model.tasks[i].delivery for i in seq), np.zeros_like(vehicle.capacity))
        picked = sum((model.tasks[i].pickup for i in seq), np.zeros_like(vehicle.capacity))
        if np.all(np.maximum(delivered, picked) + demand <= vehicle.capacity):
            return False
    return True
