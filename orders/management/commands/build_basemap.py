import json
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orders.gazetteer import GazetteerError, fetch_helsinki_extract, read_drivable_roads


class Command(BaseCommand):
    help = "Write the offline road basemap (GeoJSON) that maps draw when no tile server is configured."

    def add_arguments(self, parser):
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--pbf", type=Path, help="an .osm.pbf (or .osm XML) extract")
        where.add_argument("--helsinki", action="store_true", help="central Helsinki demo extract (var/osm/)")
        parser.add_argument("--out", type=Path, help="output file (default: var/osm/basemap.geojson)")
        parser.add_argument("--cycleways", action="store_true", help="include cycleways")

    def handle(self, *args, pbf=None, helsinki=False, out=None, cycleways=False, **options):
        started = time.perf_counter()
        osm_dir = Path(settings.BASE_DIR) / "var" / "osm"
        if helsinki:
            try:
                pbf = fetch_helsinki_extract(osm_dir)
            except GazetteerError as error:
                raise CommandError(str(error)) from error
        elif not pbf.exists():
            raise CommandError(f"{pbf} does not exist.")
        out = out or osm_dir / "basemap.geojson"
        roads = read_drivable_roads(pbf, include_cycleways=cycleways)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(roads, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")
        elapsed = time.perf_counter() - started
        size_kb = out.stat().st_size / 1024
        self.stdout.write(f"Wrote {len(roads['features'])} road lines to {out} ({size_kb:.0f} KB) in {elapsed:.2f} s.")
