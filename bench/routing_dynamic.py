"""Dynamic re-optimisation and insertion-check timings on generated city plans.

    python -m bench.routing_dynamic [--stops 300] [--slots 500] [--plan-budget 20]

1. A 300-stop plan is solved, then at 11:00 every vehicle's done stops are removed,
   10 new jobs arrive, 5 are cancelled and one vehicle breaks down; ``reoptimise`` must
   answer within 2 s (wall time, incl. building the model).
2. A 500-stop plan is committed and 200 new stops are checked with ``best_insertion``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from bench.cities import city_document
from routing import (
    InsertionPlan,
    Job,
    Place,
    VehicleState,
    best_insertion,
    live_problem,
    parse_problem,
    reoptimise,
    solve,
    verify,
)

NOW = 11 * 3600


def _states(solution):
    states = []
    for k, route in enumerate(solution.routes):
        done = [s for s in route.steps if s.type == "job" and s.arrival + s.waiting_time + s.service <= NOW]
        last = done[-1] if done else route.steps[0]
        place = Place(coordinates=last.location)
        remaining = [("job", s.id) for s in route.steps if s.type == "job" and s not in done]
        free_at = max(NOW, last.arrival + last.waiting_time + last.service)
        states.append(
            VehicleState(
                route.vehicle,
                place,
                free_at,
                remaining,
                broken_down=k == 0,
                travelled_s=last.duration,
                travelled_m=last.distance,
            )
        )
    return states


def bench_reoptimise(stops: int, plan_budget: float) -> None:
    problem = parse_problem(city_document(stops, seed=1))
    plan = solve(problem, budget_s=plan_budget, seed=1)
    extra = parse_problem(city_document(10, seed=99)).jobs
    new_jobs = [
        Job(id=100_000 + k, place=j.place, service_s=j.service_s, delivery=j.delivery) for k, j in enumerate(extra)
    ]
    states = _states(plan)
    remaining = [i for s in states for kind, i in s.remaining]
    cancelled = set(remaining[1 :: max(1, len(remaining) // 5)][:5])
    started = time.perf_counter()
    solution = reoptimise(problem, states, new_jobs=new_jobs, cancelled=cancelled, budget_s=1.5)
    seconds = time.perf_counter() - started
    live = live_problem(problem, states, new_jobs, cancelled)
    issues = verify(live, solution)
    reasons = ";".join(sorted(f"{u.id}:{u.reason}" for u in solution.unassigned))
    print("stops,remaining,new,cancelled,broken_down_stops,wall_s,routes,unassigned,verified,reasons")
    broken = len(states[0].remaining)
    print(
        f"{stops},{len(remaining)},{len(new_jobs)},{len(cancelled)},{broken},{seconds:.2f},"
        f"{len(solution.routes)},{len(solution.unassigned)},{not issues},{reasons}"
    )


def bench_insertion(stops: int, plan_budget: float) -> None:
    problem = parse_problem(city_document(stops, seed=2))
    plan = solve(problem, budget_s=plan_budget, seed=2)
    started = time.perf_counter()
    index = InsertionPlan(problem, plan)
    build_s = time.perf_counter() - started
    probes = parse_problem(city_document(200, seed=7)).jobs
    timings, feasible = [], 0
    for job in probes:
        t0 = time.perf_counter()
        found = best_insertion(
            index,
            Job(
                id=999_999,
                place=job.place,
                service_s=job.service_s,
                delivery=job.delivery,
                time_windows=job.time_windows,
            ),
        )
        timings.append((time.perf_counter() - t0) * 1000)
        feasible += bool(found)
    committed = sum(len(r.steps) - 2 for r in plan.routes)
    print("committed_stops,routes,plan_build_ms,checks,feasible,median_ms,p95_ms,max_ms")
    print(
        f"{committed},{len(plan.routes)},{build_s * 1000:.0f},{len(timings)},{feasible},"
        f"{statistics.median(timings):.2f},{np.percentile(timings, 95):.2f},{max(timings):.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stops", type=int, default=300)
    parser.add_argument("--slots", type=int, default=500)
    parser.add_argument("--plan-budget", type=float, default=20.0)
    args = parser.parse_args()
    bench_reoptimise(args.stops, args.plan_budget)
    bench_insertion(args.slots, args.plan_budget)


if __name__ == "__main__":
    main()
