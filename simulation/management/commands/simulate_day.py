"""`manage.py simulate_day --seed N`: a whole delivery day, headless, on a fresh organisation."""

import datetime as dt
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from simulation.report import report_json
from simulation.run import simulate_day
from simulation.scenario import PLAN_ITERATIONS, Scenario

# A Monday: every crew works. The clock is held at the simulated day, so this date never depends
# on the machine's: the same seed gives the same day in any year.
DEFAULT_DATE = "2026-12-07"


class Command(BaseCommand):
    help = "Simulate a delivery day (plan, dispatch, drive, deliver) and report its figures as JSON."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, required=True)
        parser.add_argument("--date", default=DEFAULT_DATE, help="the simulated day (YYYY-MM-DD)")
        parser.add_argument("--orders", type=int, default=1000)
        parser.add_argument("--hubs", type=int, default=2)
        parser.add_argument("--vehicles", type=int, default=30, help="vehicles, and as many drivers, over all hubs")
        parser.add_argument("--failure-rate", type=float, default=0.05)
        parser.add_argument("--traffic-noise", type=float, default=0.15, help="spread of leg times the model ignores")
        parser.add_argument("--strategy", choices=("static", "dynamic"), default="static")
        parser.add_argument("--position-interval", type=int, default=60, help="seconds between a driver's positions")
        parser.add_argument("--check-interval", type=int, default=300, help="seconds between the periodic checks")
        parser.add_argument("--plan-iterations", type=int, default=PLAN_ITERATIONS, help="the planner's search length")
        parser.add_argument("--out", help="write the report here (the wall-clock figures go to stdout)")

    def handle(self, *args, **options):
        try:
            date = dt.date.fromisoformat(options["date"])
        except ValueError as error:
            raise CommandError(f"--date: {error}") from None
        if options["orders"] < 1 or options["hubs"] < 1 or options["vehicles"] < options["hubs"]:
            raise CommandError("Need at least one order, one hub and one vehicle per hub.")
        if not 0 <= options["failure_rate"] <= 1 or options["traffic_noise"] < 0:
            raise CommandError("--failure-rate is a share (0-1) and --traffic-noise is not negative.")
        scenario = Scenario(
            seed=options["seed"],
            date=date,
            orders=options["orders"],
            hubs=options["hubs"],
            vehicles=options["vehicles"],
            failure_rate=options["failure_rate"],
            traffic_noise=options["traffic_noise"],
            strategy=options["strategy"],
            position_interval_s=options["position_interval"],
            check_interval_s=options["check_interval"],
            plan_iterations=options["plan_iterations"],
        )
        report, timings = simulate_day(scenario)
        text = report_json(report)
        if options["out"]:
            Path(options["out"]).write_text(text)
        else:
            self.stdout.write(text)
        self.stdout.write(f"wall clock: {json.dumps(timings, sort_keys=True)}")
