"""What re-timing a route costs per position when every estimate moves, and when none does:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/waypoint_bench .venv/bin/python -m bench.eta_record_cost

In-process, no server: one driver on a dispatched route of `--stops` stops; each round reads the
itinerary and runs `tracking.services.eta.etas_update` in a transaction, as `position_receive`
does. "moving" alternates the hub and a point 1.3 km north of it (within the off-route distance),
so every stop's estimate moves by minutes and is written (`StopEta`, and since issue 15 the
`EtaPrediction` record of what was shown); "still" sends the same position, which writes nothing.
Then, where it exists, the record's own statement alone, inside one open transaction as on the
position path (no commit of its own): one `EtaPrediction` insert of a row per stop.
bench/tracking_load.py's drivers move no estimate after their first fix, so it measures the
"still" case. Never point this at a database you care about: it adds rows.
"""

import argparse
import datetime as dt
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stops", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    from bench._setup import HUB, django_ready, fleet_create

    django_ready()
    from django.db import transaction

    from dispatch.models import Driver, Route
    from tracking.selectors.itinerary import driver_itinerary
    from tracking.services.eta import etas_update

    _slug, drivers = fleet_create(drivers=1, stops_per_route=args.stops)
    driver = Driver.objects.get(pk=drivers[0].id)
    route = Route.objects.select_related("plan__hub").get(pk=drivers[0].route_id)
    tz = route.plan.hub.tz
    # Inside the route's day and active hours, whatever the machine's clock says.
    now = dt.datetime.combine(route.plan.date, dt.time(10), tzinfo=tz)
    hours = dt.timedelta(hours=1)
    Route.objects.filter(pk=route.pk).update(start_time=now - hours, end_time=now + 8 * hours)
    positions = [(HUB[0], HUB[1]), (HUB[0] + 0.012, HUB[1])]

    def round_ms(k: int, moving: bool) -> float:
        position = positions[k % 2] if moving else positions[0]
        started = time.perf_counter()
        with transaction.atomic():
            itinerary = driver_itinerary(driver, now=now)
            etas_update(itinerary, position=position, recorded_at=now, now=now)
        return 1000 * (time.perf_counter() - started)

    for moving in (True, False):
        medians = []
        for _ in range(args.repeats):
            medians.append(statistics.median(round_ms(k, moving) for k in range(args.rounds)))
        label = "moving (every estimate written)" if moving else "still (nothing written)"
        print(
            f"{args.stops} stops, {label}: median ms per position, per repeat: "
            f"{', '.join(f'{m:.2f}' for m in medians)}; best {min(medians):.2f}"
        )
    record_ms(route, now, args)


def record_ms(route, now: dt.datetime, args) -> None:
    from django.db import transaction

    from tracking.services import eta

    if not hasattr(eta, "_prediction"):
        return  # the code before issue 15 keeps no record
    from tracking.models import EtaPrediction, StopEta

    rows = list(StopEta.objects.filter(stop__route=route))

    def once() -> float:
        predictions = [eta._prediction(row) for row in rows]
        started = time.perf_counter()
        EtaPrediction.objects.bulk_create(predictions)
        return 1000 * (time.perf_counter() - started)

    with transaction.atomic():
        medians = [statistics.median(once() for _ in range(args.rounds)) for _ in range(args.repeats)]
    print(
        f"{len(rows)} stops, the record's insert alone: median ms, per repeat: "
        f"{', '.join(f'{m:.2f}' for m in medians)}; best {min(medians):.2f}"
    )


if __name__ == "__main__":
    main()
