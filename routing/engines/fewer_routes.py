"""PyVRP's search with attempts at serving every stop with one route fewer.

Why: when vehicles have a fixed cost, one route is 2–4 % of a city plan's cost, and PyVRP's
iterated local search empties a route only through a long run of single-stop moves that
each cost more than they save until the last one. Left alone it sheds routes late: on a
1,000-stop city its cost still falls by ≈ 1 % from 60 to 120 s, in route-sized steps
(docs/routing.md, "Fewer routes"). So after a first share of the budget, Waypoint takes the
best plan's smallest route away, with one vehicle fewer of that route's type, and lets PyVRP
put its stops back elsewhere (starting from the rest of the plan). If that search ends
feasible and cheaper, it is the new best and the next smallest route goes; after
``MAX_FAILURES`` attempts in a row that do not pay, the rest of the budget is PyVRP's
ordinary search from the best plan.

Only for problems whose vehicles have a fixed cost: without one (Solomon, Gehring–Homberger
distances), fewer routes are not cheaper in themselves.
"""

from __future__ import annotations

import time

import pyvrp

# Shares of the whole budget (or of ``max_iterations``): the first plain search, each attempt.
FIRST_SHARE = 0.4
ATTEMPT_SHARE = 0.1
MAX_FAILURES = 2
# An attempt re-runs PyVRP's set-up (neighbourhoods, a local search of its start): it is only
# worth it when its share of the budget is this many times that set-up.
MIN_ATTEMPT_OVER_SETUP = 5


def worth_trying(data: pyvrp.ProblemData) -> bool:
    return any(vt.fixed_cost > 0 for vt in data.vehicle_types())


def solve_with_fewer_routes(data: pyvrp.ProblemData, stop, seed: int) -> pyvrp.Solution:
    """PyVRP's best solution of ``data`` within ``stop``'s budget (a ``_Stop`` with phases)."""
    # A set-up too slow for any attempt (5,000 stops: 7.8 s against a 300-s budget) makes the
    # first search the only one: restarting PyVRP later would only repeat its set-up.
    stop.phase(FIRST_SHARE, whole_if_setup_over_s=ATTEMPT_SHARE * stop.budget_s / MIN_ATTEMPT_OVER_SETUP)
    best = pyvrp.solve(data, stop=stop, seed=seed, collect_stats=False).best
    setup_s = (stop.first_call_at or stop.phase_called_at) - stop.phase_called_at
    attempt = failures = 0
    while _may_attempt(stop, best, failures):
        attempt += 1
        found = _attempt(data, best, failures, stop, seed + attempt)
        if found is not None and cost(data, found) < cost(data, best):
            best, failures = found, 0
        else:
            failures += 1
    if best.is_feasible() and _may_search_on(stop, setup_s):
        stop.phase(None)
        last = pyvrp.solve(data, stop=stop, seed=seed + attempt + 1, collect_stats=False, initial_solution=best).best
        if last.is_feasible() and cost(data, last) <= cost(data, best):
            best = last
    return best


def _may_attempt(stop, best: pyvrp.Solution, failures: int) -> bool:
    # A set-up too slow for attempts already gave the first search the whole budget.
    if not best.is_feasible() or best.num_routes() < 2 or failures >= MAX_FAILURES:
        return False
    return stop.has_left(ATTEMPT_SHARE)


def _may_search_on(stop, setup_s: float) -> bool:
    # PyVRP's set-up runs before its first look at the clock: a last search started with
    # less time left than that would overrun the budget.
    if stop.max_iterations is not None:
        return stop.has_left(0.0)
    return stop.has_left(0.0) and stop.budget_s - (time.perf_counter() - stop.started) > 2 * setup_s


def _attempt(data: pyvrp.ProblemData, best: pyvrp.Solution, rank: int, stop, seed: int) -> pyvrp.Solution | None:
    """PyVRP's answer without ``best``'s ``rank``-th smallest route (on ``data``), if feasible."""
    routes = best.routes()
    drop = sorted(range(len(routes)), key=lambda k: (routes[k].num_clients(), k))[rank]
    smaller, type_of = _one_vehicle_fewer(data, best, routes[drop].vehicle_type())
    kept = [_route(smaller, r, type_of[r.vehicle_type()]) for k, r in enumerate(routes) if k != drop]
    stop.phase(ATTEMPT_SHARE)
    found = pyvrp.solve(
        smaller, stop=stop, seed=seed, collect_stats=False, initial_solution=pyvrp.Solution(smaller, kept)
    ).best
    if not found.is_feasible():
        return None
    back = {new: old for old, new in type_of.items()}
    return pyvrp.Solution(data, [_route(data, r, back[r.vehicle_type()]) for r in found.routes()])


def _one_vehicle_fewer(data: pyvrp.ProblemData, best: pyvrp.Solution, vehicle_type: int):
    """``data`` with one vehicle of ``vehicle_type`` fewer than ``best`` uses (the type is
    left out when ``best`` uses only one), and the new index of every type kept."""
    used = sum(r.vehicle_type() == vehicle_type for r in best.routes())
    types = list(data.vehicle_types())
    if used > 1:
        types[vehicle_type] = types[vehicle_type].replace(num_available=used - 1)
        return data.replace(vehicle_types=types), {k: k for k in range(len(types))}
    kept = [k for k in range(len(types)) if k != vehicle_type]
    return data.replace(vehicle_types=[types[k] for k in kept]), {old: new for new, old in enumerate(kept)}


def _route(data: pyvrp.ProblemData, route: pyvrp.Route, vehicle_type: int) -> pyvrp.Route:
    return pyvrp.Route(data, [a for a in route if not a.is_depot()], vehicle_type)


def cost(data: pyvrp.ProblemData, solution: pyvrp.Solution) -> int:
    """The objective of a feasible solution (no penalties apply)."""
    return pyvrp.CostEvaluator([0.0] * data.num_load_dimensions, 0.0, 0.0).cost(solution)
