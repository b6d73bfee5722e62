"""Benchmark on Solomon / Gehring–Homberger (VRPTW) and CVRPLIB (CVRP) instances.

Usage::

    python -m bench.routing_quality PATH... --budget SECONDS [--jobs N] [--seed S]

(Generated cities: ``python -m bench.routing_city``.)

Conventions (as the distance-minimising BKS): VRPTW distances and travel times are
Euclidean truncated to one decimal, handled as integers ×10; CVRP uses rounded
Euclidean. Each instance is solved, checked by :func:`routing.verify.verify`, and printed
as one CSV row, then mean / max gap per family.
"""

from __future__ import annotations

import argparse
import csv
import math
import multiprocessing
import os
import re
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from routing import Job, Matrices, Place, Problem, Vehicle, VehicleCosts, solve, verify

HEADER = "instance,vehicles,distance,bks_distance,gap_pct,seconds,feasible"


def _euclid(xy: np.ndarray) -> np.ndarray:
    diff = xy[:, None, :] - xy[None, :, :]
    return np.sqrt((diff**2).sum(axis=2))


def _distance_costs() -> VehicleCosts:
    # per_km = 1000 makes the cost of a route its matrix distance (in matrix units).
    return VehicleCosts(fixed=0, per_hour=0, per_km=1000)


def read_solomon(path: Path) -> tuple[Problem, int]:
    """Problem in the DIMACS convention (all values ×10) and the scale (10)."""
    lines = path.read_text().splitlines()
    k = next(i for i, line in enumerate(lines) if line.strip().upper().startswith("VEHICLE"))
    fleet, capacity = (int(x) for x in lines[k + 2].split()[:2])
    rows = [
        [float(x) for x in line.split()]
        for line in lines[k + 3 :]
        if re.match(r"^\s*\d", line) and len(line.split()) >= 7
    ]
    data = np.array(rows)
    matrix = (np.floor(_euclid(data[:, 1:3]) * 10 + 1e-9)).astype(np.int64).tolist()
    depot = data[0]
    jobs = [
        Job(
            id=int(r[0]),
            place=Place(index=n),
            service_s=int(round(r[6] * 10)),
            delivery=[int(r[3])],
            time_windows=[(int(round(r[4] * 10)), int(round(r[5] * 10)))],
        )
        for n, r in enumerate(data[1:], start=1)
    ]
    shift = (int(round(depot[4] * 10)), int(round(depot[5] * 10)))
    vehicles = [
        Vehicle(
            id=v,
            start=Place(index=0),
            end=Place(index=0),
            capacity=[capacity],
            time_window=shift,
            costs=_distance_costs(),
        )
        for v in range(fleet)
    ]
    mats = {"car": Matrices(durations=matrix, distances=matrix)}
    return Problem(jobs=jobs, vehicles=vehicles, matrices=mats), 10


def read_vrplib(path: Path) -> tuple[Problem, int]:
    """CVRPLIB ``EUC_2D`` instance, rounded-integer distances, fleet = one per customer."""
    text = path.read_text()
    capacity = int(re.search(r"CAPACITY\s*:\s*(\d+)", text).group(1))  # type: ignore[union-attr]
    coords = _section(text, "NODE_COORD_SECTION")
    demand = _section(text, "DEMAND_SECTION")
    depot = int(_section(text, "DEPOT_SECTION")[0][0]) - 1
    xy = np.array([[c[1], c[2]] for c in coords])
    matrix = np.floor(_euclid(xy) + 0.5).astype(np.int64).tolist()
    jobs = [Job(id=n + 1, place=Place(index=n), delivery=[int(demand[n][1])]) for n in range(len(coords)) if n != depot]
    vehicles = [
        Vehicle(
            id=v,
            start=Place(index=depot),
            end=Place(index=depot),
            capacity=[capacity],
            costs=_distance_costs(),
        )
        for v in range(len(jobs))
    ]
    mats = {"car": Matrices(durations=matrix, distances=matrix)}
    return Problem(jobs=jobs, vehicles=vehicles, matrices=mats), 1


def _section(text: str, name: str) -> list[list[float]]:
    body = text.split(name, 1)[1].splitlines()[1:]
    rows = []
    for line in body:
        parts = line.split()
        if not parts or not re.match(r"^-?\d", parts[0]) or parts[0] == "-1":
            break
        rows.append([float(x) for x in parts])
    return rows


def read_instance(path: Path) -> tuple[Problem, int]:
    """Solomon text format (``.txt``) or VRPLIB (``.vrp``)."""
    return read_vrplib(path) if path.suffix.lower() == ".vrp" else read_solomon(path)


def family(name: str) -> str:
    """C1, R2, RC1… for Solomon and G&H (with size), X for CVRPLIB."""
    if name.startswith("X-"):
        return "X"
    match = re.match(r"^(RC|R|C)(\d)(?:_(\d+)_)?", name.upper())
    if not match:
        return "other"
    size = f"_{match.group(3)}" if match.group(3) else ""
    return f"{match.group(1)}{match.group(2)}{size}"


def load_bks(paths: list[Path]) -> dict[str, float]:
    """``bks.csv`` beside each instance: instance → BKS distance."""
    bks: dict[str, float] = {}
    for folder in {p.parent for p in paths}:
        csv_path = folder / "bks.csv"
        if csv_path.exists():
            with csv_path.open() as fh:
                for row in csv.DictReader(fh):
                    bks[row["instance"].upper()] = float(row["distance"])
    return bks


def run_instance(path_str: str, budget_s: float, seed: int) -> dict:
    """Solve and verify one instance; returns the CSV fields."""
    path = Path(path_str)
    problem, scale = read_instance(path)
    started = time.perf_counter()
    solution = solve(problem, budget_s=budget_s, seed=seed)
    seconds = time.perf_counter() - started
    issues = verify(problem, solution)
    feasible = not issues and not solution.unassigned
    return {
        "instance": path.stem,
        "vehicles": len(solution.routes),
        "distance": sum(r.distance for r in solution.routes) / scale,
        "seconds": round(seconds, 2),
        "feasible": feasible,
    }


def expand(paths: list[str]) -> list[Path]:
    """Files as given; directories searched for ``*.txt`` and ``*.vrp`` (not recursive)."""
    out: list[Path] = []
    for name in paths:
        p = Path(name)
        if p.is_dir():
            out += sorted(q for q in p.iterdir() if q.suffix.lower() in (".txt", ".vrp"))
        else:
            out.append(p)
    return out


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    paths = expand(args.paths)
    bks = load_bks(paths)
    print(HEADER, flush=True)
    gaps: dict[str, list[float]] = defaultdict(list)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # "spawn": forking a process that runs threads (OR-Tools, a test runner) can deadlock the child.
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(run_instance, str(p), args.budget, args.seed) for p in paths]
        for future in futures:
            row = future.result()
            best = bks.get(row["instance"].upper())
            gap = (row["distance"] - best) / best * 100 if best else math.nan
            if best and row["feasible"]:
                gaps[family(row["instance"])].append(gap)
            print(
                f"{row['instance']},{row['vehicles']},{row['distance']:.1f},"
                f"{best if best else ''},{gap:.2f},{row['seconds']},{row['feasible']}",
                flush=True,
            )
    _summary(gaps)
    return 0


def _summary(gaps: dict[str, list[float]]) -> None:
    every = [g for values in gaps.values() for g in values]
    for name in sorted(gaps):
        values = gaps[name]
        print(f"# {name}: n={len(values)} mean_gap={np.mean(values):.2f}% max_gap={max(values):.2f}%")
    if every:
        print(f"# all: n={len(every)} mean_gap={np.mean(every):.2f}% max_gap={max(every):.2f}%")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.routing_quality", description=__doc__)
    parser.add_argument("paths", nargs="*", help="instance files or folders")
    parser.add_argument("--budget", type=float, default=10.0, help="seconds per instance")
    parser.add_argument("--jobs", type=int, default=1, help="parallel processes")
    parser.add_argument("--seed", type=int, default=0)
    return parser


if __name__ == "__main__":
    sys.exit(main())
