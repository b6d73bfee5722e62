"""Generated city problems: seeded VROOM documents for the routing benchmarks and the engine's tests.

The city: stops scattered around a hub (denser near the centre) within ~12 km, half of
them with a two-hour delivery window between 08:00 and 20:00, two load dimensions
(kg, parcels), a heterogeneous fleet of vans and cargo bikes with VROOM-style costs in
cents (fixed, per hour of travel, per km). Seeded, so every run sees the same city.
"""

from __future__ import annotations

import math

import numpy as np

from routing import GreatCircleProvider

HUB = (4.8357, 45.7640)  # lon, lat (Lyon)
DAY = (8 * 3600, 20 * 3600)


def city_document(n: int, seed: int = 0, with_matrices: bool = False, rich: bool = False) -> dict:
    """A VROOM input document with ``n`` jobs (times in s since midnight).

    ``rich`` adds features beyond PyVRP's set: a 30-min lunch break (window 12:00–14:00)
    for vans, 10 % of jobs needing the vans' tail lift (skill 1), 10 % with two windows.
    """
    rng = np.random.default_rng(seed)
    radius_km = rng.gamma(2.0, 2.5, n).clip(0.2, 12.0)
    angle = rng.uniform(0, 2 * math.pi, n)
    lat = HUB[1] + radius_km * np.sin(angle) / 111.2
    lng = HUB[0] + radius_km * np.cos(angle) / (111.2 * math.cos(math.radians(HUB[1])))
    jobs = []
    for k in range(n):
        job = {
            "id": k + 1,
            "location": [round(float(lng[k]), 6), round(float(lat[k]), 6)],
            "service": int(rng.integers(90, 301)),
            "delivery": [int(rng.integers(1, 26)), int(rng.integers(1, 4))],
        }
        if rng.random() < 0.5:
            start = int(rng.integers(DAY[0], DAY[1] - 7200) // 900 * 900)
            job["time_windows"] = [[start, start + 7200]]
        jobs.append(job)
    kg = sum(j["delivery"][0] for j in jobs)
    vans = max(1, math.ceil(kg / 700 * 1.15))
    bikes = max(1, n // 60)
    vehicles = [_vehicle(k + 1, "van", [800, 120], (4000, 2500, 25)) for k in range(vans)]
    vehicles += [_vehicle(vans + k + 1, "bike", [90, 15], (1500, 1800, 0)) for k in range(bikes)]
    doc = {"jobs": jobs, "vehicles": vehicles}
    if rich:
        _enrich(doc, rng)
    if with_matrices:
        _add_matrices(doc)
    return doc


def _enrich(doc: dict, rng: np.random.Generator) -> None:
    for vehicle in doc["vehicles"]:
        if vehicle["profile"] == "van":
            vehicle["skills"] = [1]
            vehicle["breaks"] = [{"id": 1, "time_windows": [[12 * 3600, 14 * 3600]], "service": 1800}]
    for job in doc["jobs"]:
        draw = rng.random()
        if draw < 0.1:
            job["skills"] = [1]
        elif draw < 0.2:
            job["time_windows"] = [[9 * 3600, 11 * 3600], [15 * 3600, 17 * 3600]]


def _vehicle(ident: int, profile: str, capacity: list[int], costs: tuple) -> dict:
    return {
        "id": ident,
        "profile": profile,
        "start": list(HUB),
        "end": list(HUB),
        "capacity": capacity,
        "time_window": list(DAY),
        "costs": {"fixed": costs[0], "per_hour": costs[1], "per_km": costs[2]},
    }


def _add_matrices(doc: dict) -> None:
    points = [list(HUB)] + [j["location"] for j in doc["jobs"]]
    for k, job in enumerate(doc["jobs"], start=1):
        job["location_index"] = k
    for v in doc["vehicles"]:
        v["start_index"] = v["end_index"] = 0
    provider = GreatCircleProvider()
    doc["matrices"] = {}
    for profile in {v["profile"] for v in doc["vehicles"]}:
        dur, dist = provider.matrices([(p[1], p[0]) for p in points], profile)
        doc["matrices"][profile] = {"durations": dur.tolist(), "distances": dist.tolist()}
