"""Road-network travel: OSRM matrices and route lines, with the great circle as the fallback.

Two sources give the same answers. :class:`OsrmProvider` embeds OSRM's engine from the
``osrm-bindings`` wheel and reads files that :func:`build_osrm` makes from an OpenStreetMap
extract, one data set per OSRM profile (``car``, ``bicycle``, ``foot``; :data:`OSRM_PROFILES`
maps vehicle types onto them). :class:`OsrmTableProvider` asks an OSRM server over HTTP.

Whatever OSRM cannot answer is estimated per pair by a :class:`GreatCircleProvider`: cells
that come back ``null`` (no route: in a small extract, one-way fragments cut at its edge) and
every cell of a point that snaps further than ``max_snap_m`` from where it is (a point
outside the extract). Road durations are free-flow times (multiplier 1): ``speed_multiplier``
scales them as it scales the great circle's speeds, and the hourly profile is applied on top
by :func:`routing.travel.retime`.
"""

from __future__ import annotations

import abc
import hashlib
import json
import math
import shutil
import subprocess
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from routing.travel import GreatCircleProvider, LatLng, LruCache, _cache_key

# Waypoint vehicle type -> OSRM profile (the Lua profiles the osrm-bindings wheel ships).
OSRM_PROFILES = {"car": "car", "van": "car", "truck": "car", "scooter": "car", "bike": "bicycle", "foot": "foot"}
ROAD_PROFILES = ("car", "bicycle", "foot")
# A point further than this from every road of its profile is not on the network (outside the
# extract, or in a park a van cannot enter): its cells are estimated instead.
MAX_SNAP_M = 300.0
# OSRM's default (1,000 nodes) is for whole countries; a city extract's main network can be
# smaller than that, and then nothing counts as "big" and points snap onto dead-end fragments.
SMALL_COMPONENT_SIZE = 100
STAMP = "waypoint-roads.json"
# Map lines keep every bend wider than this (metres): a street's shape at street zoom, with about a
# fifth of OSRM's vertices (a 30-stop route: 2,797 -> 561 points).
LINE_TOLERANCE_M = 2.0


class RoadsError(Exception):
    """Road data cannot be built or read; the message says why."""


class RoadProvider(abc.ABC):
    """What both OSRM sources share: per-cell fallback, speed multiplier, caches and lines.

    Subclasses answer :meth:`_table` (a block of the matrices plus each point's snap distance)
    and :meth:`_route` (one line through the points), for an OSRM profile name; either may
    return None when that profile has no data, and everything is then estimated.
    """

    chunk: int | None = None  # largest table block a request may ask for (None: no limit)

    def __init__(
        self,
        *,
        fallback: GreatCircleProvider | None = None,
        profiles: dict[str, str] | None = None,
        max_snap_m: float = MAX_SNAP_M,
        speed_multiplier: float = 1.0,
        cache_size: int = 8,
        line_cache_size: int = 512,
    ) -> None:
        self.fallback = fallback or GreatCircleProvider(speed_multiplier=speed_multiplier)
        self.profiles = dict(OSRM_PROFILES if profiles is None else profiles)
        self.max_snap_m = max_snap_m
        self.speed_multiplier = speed_multiplier
        self._cache = LruCache(cache_size)
        self._lines = LruCache(line_cache_size)

    def osrm_profile(self, profile: str) -> str:
        """The OSRM profile a vehicle type travels on (unknown types drive as cars)."""
        return self.profiles.get(profile, "car")

    def speed_ms(self, profile: str) -> float:
        """The fallback's speed: converts added seconds to km where only a time is known."""
        return self.fallback.speed_ms(profile)

    # --- matrices -----------------------------------------------------------------------

    def matrices(self, points: Sequence[LatLng], profile: str) -> tuple[np.ndarray, np.ndarray]:
        """Durations (s) and distances (m), int32; cells OSRM cannot answer estimated."""
        key = _cache_key(points, f"{self.osrm_profile(profile)}:{profile}:{self.speed_multiplier}")
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        everything = list(range(len(points)))
        dur, dist = self._block(points, everything, everything, profile)
        np.fill_diagonal(dur, 0)
        np.fill_diagonal(dist, 0)
        result = dur.astype(np.int32), dist.astype(np.int32)
        self._cache.put(key, result)
        return result

    def row(self, point: LatLng, points: Sequence[LatLng], profile: str) -> tuple[np.ndarray, np.ndarray]:
        """Durations (s) and distances (m), int64, from ``point`` to each of ``points``."""
        merged = [point, *points]
        dur, dist = self._block(merged, [0], list(range(1, len(merged))), profile)
        return dur[0].astype(np.int64), dist[0].astype(np.int64)

    def column(self, points: Sequence[LatLng], point: LatLng, profile: str) -> tuple[np.ndarray, np.ndarray]:
        """Durations (s) and distances (m), int64, from each of ``points`` to ``point`` (roads are one-way)."""
        merged = [point, *points]
        dur, dist = self._block(merged, list(range(1, len(merged))), [0], profile)
        return dur[:, 0].astype(np.int64), dist[:, 0].astype(np.int64)

    def legs(self, points: Sequence[LatLng], profile: str) -> list[float]:
        """Seconds from each point to the next (one short table, not cached: ETAs ask this per position)."""
        if len(points) < 2:
            return []
        everything = list(range(len(points)))
        dur, _dist = self._block(points, everything, everything, profile)
        return [float(dur[k, k + 1]) for k in range(len(points) - 1)]

    def _block(self, points, rows: list[int], cols: list[int], profile: str) -> tuple[np.ndarray, np.ndarray]:
        """Rounded float arrays for rows × cols, OSRM where it answers and the estimate elsewhere."""
        name = self.osrm_profile(profile)
        dur = np.full((len(rows), len(cols)), np.nan)
        dist = np.full((len(rows), len(cols)), np.nan)
        step = self.chunk or max(1, len(rows), len(cols))
        for i0 in range(0, len(rows), step):
            for j0 in range(0, len(cols), step):
                sub_rows, sub_cols = rows[i0 : i0 + step], cols[j0 : j0 + step]
                answer = self._table(points, sub_rows, sub_cols, name)
                if answer is None:
                    continue
                d, m, row_snap, col_snap = answer
                far = (row_snap[:, None] > self.max_snap_m) | (col_snap[None, :] > self.max_snap_m)
                dur[i0 : i0 + len(sub_rows), j0 : j0 + len(sub_cols)] = np.where(far, np.nan, d / self.speed_multiplier)
                dist[i0 : i0 + len(sub_rows), j0 : j0 + len(sub_cols)] = np.where(far, np.nan, m)
        missing = np.isnan(dur) | np.isnan(dist)
        targets = [points[c] for c in cols]
        for i in np.nonzero(missing.any(axis=1))[0]:
            seconds, metres = self.fallback.row(points[rows[i]], targets, profile)
            dur[i] = np.where(missing[i], seconds, dur[i])
            dist[i] = np.where(missing[i], metres, dist[i])
        return np.rint(dur), np.rint(dist)

    # --- lines --------------------------------------------------------------------------

    def route_geometry(self, points: Sequence[LatLng], profile: str) -> list[LatLng]:
        """The road line (lat, lng) through ``points`` in order; straight where OSRM has no route.

        The line starts and ends at the given points, joined to the road where they snap onto it.
        """
        points = [(float(lat), float(lng)) for lat, lng in points]
        if len(points) < 2:
            return points
        key = _cache_key(points, f"line:{self.osrm_profile(profile)}")
        line = self._lines.get(key)
        if line is None:
            line = simplify_line(self._line(points, self.osrm_profile(profile)), LINE_TOLERANCE_M)
            self._lines.put(key, line)
        return line

    def _line(self, points: list[LatLng], name: str) -> list[LatLng]:
        whole = self._route(points, name)
        if whole is not None:
            return [points[0], *whole, points[-1]]
        # One unroutable leg fails the whole request: draw leg by leg, straight where needed.
        line: list[LatLng] = [points[0]]
        for a, b in zip(points, points[1:], strict=False):
            line.extend([*(self._route([a, b], name) or []), b])
        return line

    # --- what a source answers ----------------------------------------------------------

    @abc.abstractmethod
    def _table(self, points, rows: list[int], cols: list[int], name: str):
        """(durations, distances, snap m of each row point, of each col point) or None; NaN = no route."""

    @abc.abstractmethod
    def _route(self, points: list[LatLng], name: str) -> list[LatLng] | None:
        """The road line through ``points`` (lat, lng), or None when there is none."""


def simplify_line(line: list[LatLng], tolerance_m: float) -> list[LatLng]:
    """``line`` without the vertices that lie within ``tolerance_m`` of it (Douglas-Peucker)."""
    if len(line) < 3:
        return line
    arr = np.asarray(line, dtype=float)
    # Metres on a local flat projection: exact enough across a city.
    xy = np.column_stack([arr[:, 1] * 111_320 * math.cos(math.radians(arr[:, 0].mean())), arr[:, 0] * 110_540])
    keep = np.zeros(len(arr), dtype=bool)
    keep[[0, -1]] = True
    spans = [(0, len(arr) - 1)]
    while spans:
        i, j = spans.pop()
        if j <= i + 1:
            continue
        chord, rest = xy[j] - xy[i], xy[i + 1 : j] - xy[i]
        length = math.hypot(chord[0], chord[1])
        if length == 0:
            off = np.hypot(rest[:, 0], rest[:, 1])
        else:
            off = np.abs(chord[0] * rest[:, 1] - chord[1] * rest[:, 0]) / length
        k = int(np.argmax(off))
        if off[k] > tolerance_m:
            keep[i + 1 + k] = True
            spans += [(i, i + 1 + k), (i + 1 + k, j)]
    return [line[k] for k in np.nonzero(keep)[0]]


def _floats(rows: Any) -> np.ndarray:
    """OSRM's rows (lists, or the binding's arrays) as floats, NaN for ``None``."""
    return np.array([[math.nan if x is None else float(x) for x in row] for row in rows], dtype=float)


def _snaps(waypoints: Any, count: int) -> np.ndarray:
    if not waypoints:
        return np.zeros(count)
    return np.array([float(w["distance"]) if w is not None else math.inf for w in waypoints], dtype=float)


class OsrmProvider(RoadProvider):
    """OSRM's engine in this process, reading the files :func:`build_osrm` made.

    ``datasets`` maps OSRM profile names to the ``.osrm`` base path of each data set (see
    :func:`osrm_datasets`); a profile without one is estimated. Engines load lazily, once.
    """

    def __init__(self, datasets: dict[str, str | Path], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.datasets = {name: Path(path) for name, path in datasets.items()}
        self._engines: dict[str, Any] = {}
        self._engine_lock = threading.Lock()

    def _engine(self, name: str):
        if name not in self.datasets:
            return None
        with self._engine_lock:
            if name not in self._engines:
                import osrm  # the wheel is only needed where road data is used

                self._engines[name] = osrm.OSRM(str(self.datasets[name]))
            return self._engines[name]

    def _table(self, points, rows, cols, name):
        engine = self._engine(name)
        if engine is None:
            return None
        import osrm

        # One request per block: sources and destinations index into a merged list.
        merged = rows + [c for c in cols if c not in set(rows)]
        pos = {p: k for k, p in enumerate(merged)}
        params = osrm.TableParameters(
            coordinates=[(points[p][1], points[p][0]) for p in merged],
            sources=[pos[r] for r in rows],
            destinations=[pos[c] for c in cols],
            annotations=["duration", "distance"],
        )
        try:
            answer = engine.Table(params)
        except RuntimeError:  # e.g. NoSegment: a point with no road at all near it
            return None
        return (
            _floats(answer["durations"]),
            _floats(answer["distances"]),
            _snaps(answer["sources"], len(rows)),
            _snaps(answer["destinations"], len(cols)),
        )

    def _route(self, points, name):
        engine = self._engine(name)
        if engine is None:
            return None
        import osrm

        params = osrm.RouteParameters(
            coordinates=[(lng, lat) for lat, lng in points], geometries="geojson", overview="full"
        )
        try:
            answer = engine.Route(params)
        except RuntimeError:  # NoRoute between two of the points
            return None
        if any(float(w["distance"]) > self.max_snap_m for w in answer["waypoints"]):
            return None
        return [(float(lat), float(lng)) for lng, lat in answer["routes"][0]["geometry"]["coordinates"]]


class OsrmTableProvider(RoadProvider):
    """The same answers from an OSRM server (``osrm-routed``) over HTTP, standard library only.

    ``base_url`` may contain ``{profile}`` for one server per OSRM profile
    (``http://osrm-{profile}:5000``); a server answers for the one data set it was started
    with, whatever profile name the URL carries. Large sets are requested in ``chunk`` ×
    ``chunk`` blocks (``osrm-routed``'s default ``--max-table-size`` is 100).
    """

    def __init__(self, base_url: str, chunk: int = 100, timeout_s: float = 30.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")
        self.chunk = chunk
        self.timeout_s = timeout_s

    def _url(self, service: str, name: str, points, indexes: list[int], query: dict[str, str]) -> str:
        base = self.base_url.replace("{profile}", name)
        coords = ";".join(f"{points[p][1]:.6f},{points[p][0]:.6f}" for p in indexes)
        return f"{base}/{service}/v1/{name}/{coords}?{urllib.parse.urlencode(query, safe=',;')}"

    def _get(self, url: str) -> dict | None:
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as response:
                body = json.load(response)
        except urllib.error.HTTPError as error:  # OSRM answers 400 with its code (NoRoute, ...) in JSON
            try:
                body = json.load(error)
            except ValueError:
                raise RuntimeError(f"OSRM failed: HTTP {error.code}") from error
        if body.get("code") == "Ok":
            return body
        if body.get("code") in ("NoRoute", "NoSegment"):
            return None
        raise RuntimeError(f"OSRM failed: {body.get('code')} {body.get('message')}")

    def _table(self, points, rows, cols, name):
        merged = rows + [c for c in cols if c not in set(rows)]
        if len(merged) == 1:  # a point to itself (a diagonal block): OSRM wants two coordinates
            return np.zeros((1, 1)), np.zeros((1, 1)), np.zeros(1), np.zeros(1)
        pos = {p: k for k, p in enumerate(merged)}
        query = {
            "annotations": "duration,distance",
            "sources": ";".join(str(pos[r]) for r in rows),
            "destinations": ";".join(str(pos[c]) for c in cols),
        }
        body = self._get(self._url("table", name, points, merged, query))
        if body is None:
            return None
        empty = np.full((len(rows), len(cols)), np.nan)
        durations = _floats(body["durations"]) if body.get("durations") is not None else empty
        distances = _floats(body["distances"]) if body.get("distances") is not None else empty
        return durations, distances, _snaps(body.get("sources"), len(rows)), _snaps(body.get("destinations"), len(cols))

    def _route(self, points, name):
        query = {"geometries": "geojson", "overview": "full"}
        try:
            body = self._get(self._url("route", name, points, list(range(len(points))), query))
        except OSError:
            return None  # a line is decoration: a server away draws straight lines
        if body is None or any(float(w["distance"]) > self.max_snap_m for w in body.get("waypoints", [])):
            return None
        return [(float(lat), float(lng)) for lng, lat in body["routes"][0]["geometry"]["coordinates"]]


# --- building the data ------------------------------------------------------------------


def _osrm_package() -> Path:
    try:
        import osrm
    except ImportError as error:  # pragma: no cover - the wheel is a dependency
        raise RoadsError("The osrm-bindings package is not installed (it needs Python 3.12 or newer).") from error
    return Path(osrm.__file__).parent


def _osrm_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("osrm-bindings")
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_osrm(
    pbf: Path | str,
    out_dir: Path | str,
    *,
    profiles: Sequence[str] = ROAD_PROFILES,
    small_component_size: int = SMALL_COMPONENT_SIZE,
    threads: int = 2,
) -> dict[str, dict]:
    """Build OSRM data (contraction hierarchies) of ``pbf`` per profile into ``out_dir/<profile>/``.

    Idempotent: a profile whose stamp matches the extract's sha256, the osrm-bindings version
    and the options is left alone. Each profile is built in a scratch folder and swapped in
    whole, so a reader never sees half a data set. Returns per profile
    ``{"path": Path, "built": bool, "seconds": float}``.
    """
    import time

    pbf, out_dir = Path(pbf), Path(out_dir)
    if not pbf.exists():
        raise RoadsError(f"{pbf} does not exist.")
    package = _osrm_package()
    base_name = pbf.name.split(".")[0].lower() + ".osrm"
    wanted = {
        "source": pbf.name,
        "sha256": _sha256(pbf),
        "osrm_bindings": _osrm_version(),
        "small_component_size": small_component_size,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    for name in profiles:
        lua = package / "share" / "profiles" / f"{name}.lua"
        if not lua.exists():
            raise RoadsError(f"osrm-bindings has no {name} profile ({lua}).")
        target = out_dir / name
        stamp = _read_stamp(target)
        if (
            stamp is not None
            and {k: stamp.get(k) for k in wanted} == wanted
            and (target / base_name).with_suffix(".osrm.hsgr").exists()
        ):
            results[name] = {"path": target / base_name, "built": False, "seconds": 0.0}
            continue
        started = time.perf_counter()
        scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=out_dir))
        try:
            base = scratch / base_name
            _run(package, "osrm-extract", "-l", "WARNING", "-t", str(threads), "-p", str(lua), "-o", str(base),
                 "--small-component-size", str(small_component_size), str(pbf))  # fmt: skip
            _run(package, "osrm-contract", "-l", "WARNING", "-t", str(threads), str(base))
            (scratch / STAMP).write_text(json.dumps({**wanted, "profile": name, "dataset": base_name}, indent=1))
            if target.exists():
                shutil.rmtree(target)
            scratch.replace(target)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        results[name] = {"path": target / base_name, "built": True, "seconds": time.perf_counter() - started}
    return results


def _run(package: Path, tool: str, *args: str) -> None:
    completed = subprocess.run([str(package / "bin" / tool), *args], capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        detail = (completed.stderr or completed.stdout).strip().splitlines()[-3:]
        raise RoadsError(f"{tool} failed ({completed.returncode}): {' | '.join(detail) or 'no output'}")


def _read_stamp(folder: Path) -> dict | None:
    try:
        return json.loads((folder / STAMP).read_text())
    except (OSError, ValueError):
        return None


def osrm_datasets(data_dir: Path | str) -> dict[str, Path]:
    """The complete data sets under ``data_dir`` (as :func:`build_osrm` leaves them): profile -> path."""
    found = {}
    for stamp_file in sorted(Path(data_dir).glob(f"*/{STAMP}")):
        stamp = _read_stamp(stamp_file.parent)
        if stamp and stamp.get("dataset") and stamp.get("profile") == stamp_file.parent.name:
            found[stamp["profile"]] = stamp_file.parent / stamp["dataset"]
    return found
