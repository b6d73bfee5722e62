import datetime as dt
import zoneinfo

from django.core.management.base import BaseCommand

from common import clock
from demo.seed import DRIVERS, PASSWORDS, TZ, seed_demo


class Command(BaseCommand):
    help = "Create (once) the demo organisation in Helsinki; dispatch today's routes; add tomorrow's orders."

    def add_arguments(self, parser):
        parser.add_argument("--date", type=dt.date.fromisoformat, help="Order date (default: tomorrow in Helsinki)")
        parser.add_argument("--orders", type=int, default=120)
        parser.add_argument("--history-days", type=int, default=56, help="Days of past deliveries for the forecast")
        parser.add_argument("--base-url", default="http://localhost:8000", help="Where the demo is served")

    def handle(self, *args, date=None, orders=120, history_days=56, base_url="http://localhost:8000", **options):
        day = date or clock.now().astimezone(zoneinfo.ZoneInfo(TZ)).date() + dt.timedelta(days=1)
        summary = seed_demo(order_date=day, order_count=orders, history_days=history_days)
        base = base_url.rstrip("/")
        self.stdout.write(self.style.SUCCESS(f"Demo organisation: {summary.organization.name}"))
        self.stdout.write(
            f"  orders for {summary.order_date}: {summary.orders_created} created this run"
            f" (gazetteer: {summary.gazetteer_points} Helsinki addresses)"
        )
        self.stdout.write(f"  app:        {base}/")
        # The demo's `admin` runs its own organisation; Django's admin spans every tenant and is
        # for platform operators (superusers) only.
        self.stdout.write(f"  admin:      {base}/admin/ (superusers only: manage.py createsuperuser)")
        self.stdout.write(f"  API docs:   {base}/api/docs")
        for role, password in PASSWORDS.items():
            self.stdout.write(f"  login {role:<10} password {password}")
        today = {route.driver_username: route for route in summary.today_routes}
        for index, name in enumerate(DRIVERS, start=1):
            route = today.get(f"driver{index}")
            drives = f"; today: {route.stops} stops from {route.hub_name} at {base}/driver/" if route else ""
            self.stdout.write(f"  login driver{index:<4} password waypoint-driver{index}  ({name}){drives}")
        if summary.api_key:
            self.stdout.write(f"  merchant API key: {summary.api_key}")
            self.stdout.write(f'  try: curl -H "Authorization: Bearer {summary.api_key}" {base}/api/orders')
        else:
            # var/ lost the secret; a second key would be one more live credential nobody tracks.
            self.stdout.write(
                f"  merchant API key: 'Demo web shop' ({summary.api_key_prefix}…) exists; its secret is not"
                " stored any more. Revoke it under API keys (as admin) and re-run seed_demo for a new one."
            )
