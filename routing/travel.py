"""Travel model: duration (s) and distance (m) matrices for lists of (lat, lng) points.

The default provider is offline: great-circle distance × a circuity factor, divided by a
per-profile speed. A time-of-day profile (speed multipliers by hour) re-times planned
routes; the optimiser itself plans on the multiplier at the departure hour (see
docs/routing.md for the measured error). ``ReusingProvider`` recomputes only new points of a
repeated question. Road networks (OSRM, embedded or over HTTP) are in ``routing.roads``.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

import numpy as np

EARTH_RADIUS_M = 6_371_000.0
# Urban cruising speeds (km/h) incl. junctions; measured city averages are 15-30 km/h.
SPEEDS_KMH = {"bike": 15.0, "scooter": 25.0, "car": 30.0, "van": 27.0, "truck": 22.0, "foot": 5.0}
# Speed multiplier per hour of day (0-23): morning and evening rush are slower.
CITY_TRAFFIC = (1.25,) * 6 + (1.0, 0.75, 0.7, 0.85) + (0.95,) * 5 + (0.85, 0.75, 0.7, 0.8) + (1.0,) * 5

LatLng = tuple[float, float]


class LruCache:
    """A small thread-safe LRU map for providers' answers (one provider serves several request
    threads of the web process); ``size`` 0 keeps nothing."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


class TravelProvider(Protocol):
    def matrices(self, points: Sequence[LatLng], profile: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (durations in s, distances in m) as int32 n×n arrays."""
        ...


def great_circle_m(points: Sequence[LatLng]) -> np.ndarray:
    """Haversine distances in metres between all pairs of (lat, lng) degrees (float64)."""
    arr = np.radians(np.asarray(points, dtype=np.float64).reshape(-1, 2))
    lat, lng = arr[:, 0:1], arr[:, 1:2]
    a = np.sin((lat - lat.T) / 2) ** 2 + np.cos(lat) * np.cos(lat.T) * np.sin((lng - lng.T) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


class GreatCircleProvider:
    """Offline estimate: distance = great circle × ``circuity``; time = distance / speed.

    ``speed_multiplier`` scales every speed (use :func:`traffic_multiplier` for the
    departure hour). Matrices are cached (LRU, ``cache_size`` entries) by a hash of the
    coordinates, profile and multiplier; a 5,000-point pair takes 2 × 100 MB as int32.
    """

    def __init__(
        self,
        circuity: float = 1.3,
        speeds_kmh: dict[str, float] | None = None,
        speed_multiplier: float = 1.0,
        cache_size: int = 8,
    ) -> None:
        self.circuity = circuity
        self.speeds_kmh = dict(SPEEDS_KMH if speeds_kmh is None else speeds_kmh)
        self.speed_multiplier = speed_multiplier
        self._cache = LruCache(cache_size)

    def speed_ms(self, profile: str) -> float:
        """Speed of ``profile`` in metres per second (unknown profiles travel as cars)."""
        kmh = self.speeds_kmh.get(profile, self.speeds_kmh.get("car", 30.0))
        return kmh * self.speed_multiplier / 3.6

    def matrices(self, points: Sequence[LatLng], profile: str) -> tuple[np.ndarray, np.ndarray]:
        """Durations (s) and distances (m), int32, rounded to the nearest unit."""
        key = _cache_key(points, f"{profile}:{self.circuity}:{self.speed_ms(profile)}")
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        road_m = great_circle_m(points) * self.circuity
        result = (
            np.rint(road_m / self.speed_ms(profile)).astype(np.int32),
            np.rint(road_m).astype(np.int32),
        )
        self._cache.put(key, result)
        return result

    def row(self, point: LatLng, points: Sequence[LatLng], profile: str):
        """Durations (s) and distances (m), int64, from ``point`` to each of ``points``."""
        road_m = _haversine_row(point, points) * self.circuity
        seconds = np.rint(road_m / self.speed_ms(profile)).astype(np.int64)
        return seconds, np.rint(road_m).astype(np.int64)

    def column(self, points: Sequence[LatLng], point: LatLng, profile: str):
        """From each of ``points`` to ``point``: the same as :meth:`row` (great circles are symmetric)."""
        return self.row(point, points, profile)

    def legs(self, points: Sequence[LatLng], profile: str) -> list[float]:
        """Seconds from each point to the next."""
        return [float(self.row(a, [b], profile)[0][0]) for a, b in zip(points, points[1:], strict=False)]

    def route_geometry(self, points: Sequence[LatLng], profile: str) -> list[LatLng]:
        """The line through ``points``: straight, since this model knows no roads."""
        return [(float(lat), float(lng)) for lat, lng in points]


class ReusingProvider(GreatCircleProvider):
    """A :class:`GreatCircleProvider` that reuses its previous answer's cells for known points.

    Built for repeated questions about almost the same points (committed routes rebuilt after
    one more stop): only the rows and columns of new points are computed; the full matrix
    costs ~25 ms for 550 points. Nothing is cached beyond the last answer per profile.
    """

    def __init__(self) -> None:
        super().__init__(cache_size=0)
        self._last: dict[str, tuple[dict[tuple[float, ...], int], np.ndarray, np.ndarray]] = {}

    def matrices(self, points: Sequence[LatLng], profile: str) -> tuple[np.ndarray, np.ndarray]:
        """Durations (s) and distances (m), int32, as :meth:`GreatCircleProvider.matrices`."""
        keys = [tuple(point) for point in points]
        result = self._reuse(keys, points, profile)
        if result is None:
            result = super().matrices(points, profile)
        self._last[profile] = ({key: i for i, key in enumerate(keys)}, *result)
        return result

    def _reuse(self, keys, points, profile):
        last = self._last.get(profile)
        if last is None:
            return None
        index, old_dur, old_dist = last
        old = np.array([index.get(key, -1) for key in keys], dtype=np.int64)
        known = np.nonzero(old >= 0)[0]
        if len(known) < len(keys) // 2:
            return None
        size = len(keys)
        dur, dist = np.empty((size, size), dtype=np.int32), np.empty((size, size), dtype=np.int32)
        dur[np.ix_(known, known)] = old_dur[np.ix_(old[known], old[known])]
        dist[np.ix_(known, known)] = old_dist[np.ix_(old[known], old[known])]
        for j in np.nonzero(old < 0)[0]:
            seconds, metres = self.row(points[j], points, profile)  # great circles are symmetric
            dur[j, :], dur[:, j], dist[j, :], dist[:, j] = seconds, seconds, metres, metres
        return dur, dist


def _haversine_row(point: LatLng, points: Sequence[LatLng]) -> np.ndarray:
    arr = np.radians(np.asarray(points, dtype=np.float64).reshape(-1, 2))
    lat0, lng0 = np.radians(point[0]), np.radians(point[1])
    a = np.sin((arr[:, 0] - lat0) / 2) ** 2 + np.cos(arr[:, 0]) * np.cos(lat0) * np.sin((arr[:, 1] - lng0) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _cache_key(points: Sequence[LatLng], suffix: str) -> str:
    digest = hashlib.blake2b(np.asarray(points, dtype=np.float64).tobytes(), digest_size=16)
    digest.update(suffix.encode())
    return digest.hexdigest()


def traffic_multiplier(seconds_since_midnight: float, profile: Sequence[float] = CITY_TRAFFIC):
    """Speed multiplier at a time of day (s since local midnight), hourly steps."""
    return profile[int(seconds_since_midnight // 3600) % 24]


def time_dependent_travel(base_s: float, depart_s: float, profile=CITY_TRAFFIC) -> float:
    """Travel time (s) of a leg lasting ``base_s`` at multiplier 1, leaving at ``depart_s``.

    Integrates speed over the hourly profile, so a leg crossing into rush hour slows down
    mid-way and the first-in-first-out property holds.
    """
    remaining, t = float(base_s), float(depart_s)
    while remaining > 1e-9:
        mult = traffic_multiplier(t, profile)
        hour_left = 3600 - (t % 3600)
        doable = hour_left * mult
        if doable >= remaining:
            return t + remaining / mult - depart_s
        remaining -= doable
        t += hour_left
    return t - depart_s


def retime(
    departure_s: int,
    legs_s: Sequence[float],
    dwell_s: Sequence[int],
    earliest_s: Sequence[int],
    profile: Sequence[float] = CITY_TRAFFIC,
) -> list[int]:
    """Arrival times (s) along a route under the time-of-day profile.

    ``legs_s[k]`` is the free-flow (multiplier 1) travel time into stop k, ``dwell_s[k]``
    its setup + service, ``earliest_s[k]`` the earliest service start (window opening).
    Used to re-time a plan optimised at one multiplier, and for ETAs.
    """
    arrivals, t = [], float(departure_s)
    for leg, dwell, earliest in zip(legs_s, dwell_s, earliest_s, strict=True):
        t += time_dependent_travel(leg, t, profile)
        arrivals.append(round(t))
        t = max(t, earliest) + dwell
    return arrivals
