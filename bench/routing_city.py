"""Generated cities (bench/cities.py): one solve at scale, or Waypoint against PyVRP and VROOM.

Usage::

    python -m bench.routing_city --city 2000 --budget 60      # time to first plan, peak memory
    python -m bench.routing_city --compare 1000 --budget 60 --seeds 1,2 --instances 1,2 [--rich]

The comparison runs PyVRP directly on the data Waypoint compiles and costs every answer with
Waypoint's own scheduler, so it reaches into the engine's internals (``routing.model``,
``routing.solver``, ``routing.engines``) on purpose; the library never imports this module.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta

import numpy as np

from bench.cities import city_document
from routing import Problem, parse_problem, solve, verify
from routing.engines.pyvrp_engine import build_data, cost_divisor
from routing.model import compile_problem
from routing.solver import assemble


def run_city(n: int, budget_s: float, seed: int) -> Iterator[str]:
    """Solve a generated ``n``-stop city; CSV lines with time to first plan and peak memory."""
    started = time.perf_counter()
    problem = parse_problem(city_document(n, seed))
    first: list[float] = []
    solution = solve(
        problem,
        budget_s=budget_s,
        seed=seed,
        on_progress=lambda t, c: first.append(time.perf_counter() - started),
    )
    total = time.perf_counter() - started
    issues = verify(problem, solution)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    yield ("stops,vehicles_available,routes,unassigned,cost,time_to_feasible_s,total_s,peak_rss_mb,engine,verified")
    yield (
        f"{n},{len(problem.vehicles)},{len(solution.routes)},{len(solution.unassigned)},"
        f"{solution.cost},{first[0] if first else float('nan'):.1f},{total:.1f},"
        f"{peak_mb:.0f},{solution.engine},{not issues}"
    )


def _cost_of(problem: Problem, routes_by_key: dict[int, list[tuple[str, int]]]):
    model = compile_problem(problem)
    index = {(t.kind, t.id): i for i, t in enumerate(model.tasks)}
    vehicle = {veh.id: v for v, veh in enumerate(model.vehicles)}
    routes = {vehicle[vid]: [index[k] for k in keys] for vid, keys in routes_by_key.items()}
    solution = assemble(model, routes, {})
    served = sum(len(r) for r in routes.values())
    return solution, len(model.tasks) - served


def _vroom(doc: dict, budget_s: float):
    """VROOM's plan within ``budget_s`` s from the document in hand.

    VROOM starts its own clock when its ``Input`` is built and deducts its loading (reading
    the JSON, its matrices and checks) from ``timeout``; the time spent here before that
    (writing the JSON file it reads) is deducted too. VROOM's construction heuristics (32
    starting plans at exploration level 5) do not watch the clock, so it can overrun: at
    1,000 stops no ``timeout`` gets it under ≈ 10.5 s."""
    started = time.perf_counter()
    import vroom  # bench-only comparison engine, never imported by the library

    with tempfile.NamedTemporaryFile("w", suffix=".json") as fh:
        fh.write(json.dumps(doc))  # 0.3 s at 1,000 stops; json.dump writes piece by piece: 2.2 s
        fh.flush()
        timeout = timedelta(seconds=max(0.0, budget_s - (time.perf_counter() - started)))
        problem = vroom.Input.from_json(fh.name)
    out = problem.solve(exploration_level=5, nb_threads=1, timeout=timeout)
    routes = out.to_dict()["routes"]
    return {r["vehicle"]: [("job", s["id"]) for s in r["steps"] if s["type"] == "job"] for r in routes}


class _Deadline:
    """PyVRP stopping criterion: stop at a wall-clock instant (``time.perf_counter()``).

    ``MaxRuntime`` starts its clock at its first call, i.e. after PyVRP has built its
    neighbourhoods and run its first exhaustive local search (≈ 0.5 s at 1,000 stops), and
    knows nothing of the time spent building the data before ``pyvrp.solve``."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline

    def __call__(self, best_cost: int) -> bool:
        return time.perf_counter() >= self.deadline


def _pyvrp(problem: Problem, budget_s: float, seed: int):
    """PyVRP run directly on the data Waypoint builds, ending ``budget_s`` s after the call."""
    import pyvrp

    deadline = time.perf_counter() + budget_s
    model = compile_problem(problem)
    ids = list(range(len(model.tasks)))
    data, job_ids, _ = build_data(model, ids, required=True, g=cost_divisor(model, ids))
    result = pyvrp.solve(data, stop=_Deadline(deadline), seed=seed, collect_stats=False)
    names = {k: list(map(int, vt.name.split(","))) for k, vt in enumerate(data.vehicle_types())}
    out = {}
    for route in result.best.routes():
        v = names[route.vehicle_type()].pop(0)
        out[model.vehicles[v].id] = [("job", model.tasks[job_ids[a.idx]].id) for a in route if a.is_client()]
    return out


def compare(n: int, budget_s: float, seeds: list[int], instances: list[int], rich: bool = False) -> Iterator[str]:
    """Same city, same budget: Waypoint vs PyVRP direct vs VROOM; costs from one scheduler.

    Every instance seed (city) is solved once per solver seed by each solver; the rows are
    followed by the mean per solver and Waypoint's mean relative difference to each other
    solver over the same (instance, seed) pairs. With ``rich`` (breaks, skills, two
    windows) PyVRP cannot take part.

    One budget for all, counted from the same point: the parsed document (``Problem`` /
    dict) in hand, until the solver's answer. Waypoint's is the wall time of the whole
    ``solve()`` call; PyVRP direct's data building and set-up count against its budget
    (:class:`_Deadline`); VROOM's JSON writing and loading count against its ``timeout``
    (:func:`_vroom`), but its construction heuristics ignore it. ``seconds`` is each
    solver's measured wall time, so any overrun shows."""
    yield "instance,seed,solver,routes,unassigned,cost,distance_km,seconds,verified,load_avg"
    costs: dict[str, dict[tuple[int, int], int]] = {}
    for instance in instances:
        doc = city_document(n, instance, with_matrices=True, rich=rich)
        problem = parse_problem(doc)
        for seed in seeds:
            for name, run in _solvers(doc, problem, budget_s, seed, rich).items():
                started = time.perf_counter()
                routes = run()
                seconds = time.perf_counter() - started
                solution, missing = _cost_of(problem, routes)
                issues = verify(problem, solution)
                km = sum(r.distance for r in solution.routes) / 1000
                # Unassigned stops make a plan incomparable: such a run counts as no answer.
                costs.setdefault(name, {})[(instance, seed)] = solution.cost if not (missing or issues) else -1
                yield (
                    f"{instance},{seed},{name},{len(solution.routes)},{missing},{solution.cost},{km:.1f},"
                    f"{seconds:.2f},{not issues},{os.getloadavg()[0]:.2f}"
                )
    yield from summary(costs)


def _solvers(doc: dict, problem: Problem, budget_s: float, seed: int, rich: bool) -> dict:
    runs = {
        "waypoint": lambda: _keys(solve(problem, budget_s=budget_s, seed=seed)),
        "pyvrp": lambda: _pyvrp(problem, budget_s, seed),
        "vroom": lambda: _vroom(doc, budget_s),
    }
    if rich:
        del runs["pyvrp"]
    return runs


def summary(costs: dict[str, dict[tuple[int, int], int]]) -> Iterator[str]:
    """``# mean`` line per solver, then Waypoint against each other solver, pair by pair
    (relative difference in %, negative = Waypoint cheaper; runs without a full plan are
    left out of both sides)."""
    for name, runs in costs.items():
        valid = [c for c in runs.values() if c >= 0]
        mean = f"{np.mean(valid):.0f}" if valid else "nan"
        yield f"# mean {name}: runs={len(runs)} complete={len(valid)} cost={mean}"
    ours = costs.get("waypoint", {})
    for name, runs in costs.items():
        if name == "waypoint":
            continue
        pairs = [(ours[k], runs[k]) for k in runs if k in ours and ours[k] >= 0 and runs[k] >= 0]
        if not pairs:
            continue
        diffs = [(a - b) / b * 100 for a, b in pairs]
        wins = sum(a < b for a, b in pairs)
        losses = sum(a > b for a, b in pairs)
        yield (
            f"# waypoint vs {name}: pairs={len(pairs)} mean_diff={np.mean(diffs):+.2f}% "
            f"min={min(diffs):+.2f}% max={max(diffs):+.2f}% wins={wins} losses={losses}"
        )


def _keys(solution) -> dict[int, list[tuple[str, int]]]:
    return {r.vehicle: [(s.type, s.id) for s in r.steps if s.type == "job"] for r in solution.routes}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.city:
        run = run_city(args.city, args.budget, args.seed)
    else:
        seeds, instances = _seeds(args.seeds, args.seed), _seeds(args.instances, args.seed)
        run = compare(args.compare, args.budget, seeds, instances, args.rich)
    for line in run:
        print(line, flush=True)
    return 0


def _seeds(text: str | None, default: int) -> list[int]:
    return [int(x) for x in text.split(",")] if text else [default]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.routing_city", description=__doc__)
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--city", type=int, default=0, help="generated city problem size")
    size.add_argument(
        "--compare",
        type=int,
        default=0,
        help="city problem size solved by Waypoint, PyVRP and pyvroom",
    )
    parser.add_argument("--budget", type=float, default=10.0, help="seconds per solve")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rich", action="store_true", help="with --compare: add breaks, skills, two windows")
    parser.add_argument("--seeds", help="with --compare: solver seeds, e.g. 1,2,3 (default: --seed)")
    parser.add_argument("--instances", help="with --compare: city seeds, e.g. 1,2,3 (default: --seed)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
