import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orders.gazetteer import GazetteerError, fetch_helsinki_extract, gazetteer_load, read_address_points


class Command(BaseCommand):
    help = "Load the offline address gazetteer from an OpenStreetMap extract (replaces that source's points)."

    def add_arguments(self, parser):
        where = parser.add_mutually_exclusive_group(required=True)
        where.add_argument("--pbf", type=Path, help="an .osm.pbf (or .osm XML) extract")
        where.add_argument("--helsinki", action="store_true", help="central Helsinki demo extract (var/osm/)")
        parser.add_argument("--source", help="source label; a re-load replaces it (default: osm:<file name>)")
        parser.add_argument("--city", default="", help="city for points without addr:city (--helsinki: Helsinki)")
        parser.add_argument("--country", default="", help="ISO country code (--helsinki: FI)")

    def handle(self, *args, pbf=None, helsinki=False, source=None, city="", country="", **options):
        started = time.perf_counter()
        if helsinki:
            city, country = city or "Helsinki", country or "FI"
            try:
                pbf = fetch_helsinki_extract(Path(settings.BASE_DIR) / "var" / "osm")
            except GazetteerError as error:
                raise CommandError(str(error)) from error
        elif not pbf.exists():
            raise CommandError(f"{pbf} does not exist.")
        source = source or f"osm:{pbf.name.split('.')[0].lower()}"
        points = read_address_points(pbf, city=city)
        count = gazetteer_load(points, source=source, country=country)
        elapsed = time.perf_counter() - started
        self.stdout.write(f"Loaded {count} address points from {pbf} as source '{source}' in {elapsed:.2f} s.")
