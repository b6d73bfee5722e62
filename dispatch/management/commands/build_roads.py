import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orders.gazetteer import GazetteerError, fetch_helsinki_extract
from routing import ROAD_PROFILES, RoadsError, build_osrm


class Command(BaseCommand):
    help = (
        "Build the OSRM road data (car for vans, bicycle for cargo bikes, foot for walking couriers) "
        "that WAYPOINT_TRAVEL=osrm reads; does nothing when it is already built from the same extract."
    )

    def add_arguments(self, parser):
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--pbf", type=Path, help="an .osm.pbf extract")
        where.add_argument("--helsinki", action="store_true", help="central Helsinki demo extract (var/osm/)")
        parser.add_argument("--out", type=Path, help="output folder (default: WAYPOINT_OSRM_DATA, var/osm)")
        parser.add_argument(
            "--profile", action="append", choices=ROAD_PROFILES, help="build only this profile (repeatable)"
        )

    def handle(self, *args, pbf=None, helsinki=False, out=None, profile=None, **options):
        started = time.perf_counter()
        if helsinki:
            try:
                # The same extract (and download cache) as build_basemap and load_gazetteer.
                pbf = fetch_helsinki_extract(Path(settings.BASE_DIR) / "var" / "osm")
            except GazetteerError as error:
                raise CommandError(str(error)) from error
        out = out or Path(settings.WAYPOINT_OSRM_DATA)
        try:
            results = build_osrm(pbf, out, profiles=profile or ROAD_PROFILES)
        except RoadsError as error:
            raise CommandError(str(error)) from error
        for name, result in results.items():
            what = f"built in {result['seconds']:.1f} s" if result["built"] else "up to date"
            self.stdout.write(f"{name}: {result['path']} ({what})")
        elapsed = time.perf_counter() - started
        self.stdout.write(f"Road data for {', '.join(results)} from {pbf.name} in {out} ({elapsed:.1f} s).")
