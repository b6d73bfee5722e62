"""Error left by planning on one traffic multiplier instead of the time-of-day profile.

    python -m bench.routing_traffic [--stops 200] [--budget 10]

The city plan is optimised with speeds scaled by the multiplier at the departure hour
(08:00), then every route is re-timed with the hourly profile (``routing.travel.retime``).
Reports arrival-time differences and the stops that would miss a hard window, and the
same for a plan made on free-flow speeds (multiplier 1) as a baseline.
"""

from __future__ import annotations

import argparse

import numpy as np

from bench.cities import DAY, city_document
from routing import CITY_TRAFFIC, GreatCircleProvider, parse_problem, retime, solve, traffic_multiplier


def measure(multiplier: float, stops: int, budget: float) -> str:
    problem = parse_problem(city_document(stops, seed=5))
    planning = GreatCircleProvider(speed_multiplier=multiplier)
    free_flow = GreatCircleProvider()
    solution = solve(problem, budget_s=budget, seed=5, provider=planning)
    windows = {j.id: j.time_windows for j in problem.jobs}
    errors, late = [], 0
    for route in solution.routes:
        profile = next(v.profile for v in problem.vehicles if v.id == route.vehicle)
        jobs = [s for s in route.steps if s.type == "job"]
        points = [route.steps[0].location, *[s.location for s in jobs]]
        seconds, _ = free_flow.matrices([(p[1], p[0]) for p in points], profile)
        legs = [float(seconds[k, k + 1]) for k in range(len(jobs))]
        earliest = [min((a for a, _ in windows[s.id]), default=0) for s in jobs]
        real = retime(route.steps[0].arrival, legs, [s.service for s in jobs], earliest)
        for step, arrival in zip(jobs, real, strict=True):
            errors.append(arrival - step.arrival)
            start = max(arrival, min((a for a, _ in windows[step.id]), default=arrival))
            late += bool(windows[step.id]) and all(start > b for _, b in windows[step.id])
    abs_err = np.abs(errors) / 60
    return (
        f"{multiplier:.2f},{len(errors)},{np.mean(errors) / 60:.1f},{np.mean(abs_err):.1f},"
        f"{np.percentile(abs_err, 95):.1f},{abs_err.max():.1f},{late}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stops", type=int, default=200)
    parser.add_argument("--budget", type=float, default=10.0)
    args = parser.parse_args()
    print("planning_multiplier,stops,mean_err_min,mean_abs_err_min,p95_abs_err_min,max_abs_err_min,missed_hard_windows")
    for multiplier in (traffic_multiplier(DAY[0], CITY_TRAFFIC), 1.0):
        print(measure(multiplier, args.stops, args.budget))


if __name__ == "__main__":
    main()
