"""The one travel model every app uses: chosen by settings, built once per process.

Planning, live insertions, slot checks and ETAs take their matrices from `travel_provider()`, and
the maps take their route lines from `road_line()`, so one setting (WAYPOINT_TRAVEL) moves them
all together onto roads. The engine itself (`routing`) stays a pure library: this is where the
Django settings meet it.
"""

import functools
import logging
from pathlib import Path

from django.conf import settings

from routing import GreatCircleProvider, LatLng, OsrmProvider, OsrmTableProvider, osrm_datasets

logger = logging.getLogger(__name__)


def travel_provider():
    """The process's travel model: OSRM when WAYPOINT_TRAVEL=osrm and it has data, else the great circle."""
    return _provider(settings.WAYPOINT_TRAVEL, settings.WAYPOINT_OSRM_URL, str(settings.WAYPOINT_OSRM_DATA))


# Keyed by the settings themselves, so a test's override gets its own provider and every process
# loads the road data once.
@functools.cache
def _provider(mode: str, url: str, data_dir: str):
    if mode != "osrm":
        return GreatCircleProvider()
    if url:
        return OsrmTableProvider(url)
    datasets = osrm_datasets(Path(data_dir))
    if not datasets:
        logger.warning(
            "WAYPOINT_TRAVEL=osrm but %s holds no road data (run `manage.py build_roads`): "
            "travel times are great-circle estimates.",
            data_dir,
        )
        return GreatCircleProvider()
    return OsrmProvider(datasets)


def road_line(points: list[LatLng], *, vehicle_type: str) -> list[list[float]]:
    """The line (as [lat, lng] pairs) a map draws through `points`: along the roads when OSRM is on."""
    usable = [(float(lat), float(lng)) for lat, lng in points if lat is not None and lng is not None]
    return [[round(lat, 6), round(lng, 6)] for lat, lng in travel_provider().route_geometry(usable, vehicle_type)]
