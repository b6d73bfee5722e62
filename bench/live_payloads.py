"""What the live screens' payloads cost: the per-position messages, and the tower snapshot.

    .venv/bin/python -m bench.live_payloads [--messages 1000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/waypoint_bench \\
        .venv/bin/python -m bench.live_payloads --tower 1000

1. Messages (no database): each accepted position is pushed as `driver.position` to the tower and
   the board, and to the customer's page. Built `--messages` times by the dict builders that
   `tracking/services/positions.py` uses, then by the serializers that define the same shapes
   (one serializer per message, and one instance reused). Best of 20 rounds.
2. `--tower N` (Postgres): a fresh organization like the load test's (N drivers on today's
   dispatched plan, three stops each), plus each driver's latest position and every stop's ETA;
   then the tower snapshot: the selector's queries, and serializing its answer (median of 9).

Never point `--tower` at a database you care about: it adds rows.
"""

import argparse
import datetime as dt
import os
import statistics
import time


def best_of(rounds: int, work) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def messages(count: int) -> None:
    from dispatch.models import Driver, Stop
    from tracking.models import DriverPosition
    from tracking.payloads import DriverOnMap, customer_driver, driver_position_message, position_values
    from tracking.serializers import CustomerDriverSerializer, DriverPositionPushSerializer

    at = dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)
    rows = []
    for n in range(count):
        driver = Driver(pk=n + 1, name=f"Driver {n + 1}", home_hub_id=1)
        fix = DriverPosition(
            driver=driver, recorded_at=at, lat=60.17, lng=24.94, accuracy_m=5.0, heading_deg=90.0, battery_pct=80.0
        )
        rows.append((driver, fix, Stop(pk=10 + n, route_id=5, order_id=20 + n)))

    def builders():
        for driver, fix, stop in rows:
            values = position_values(fix)
            driver_position_message(driver, values, hub_id=1, stop=stop)
            customer_driver(driver, values)

    def on_map(driver, fix, stop):
        return DriverOnMap(driver, fix, hub_id=1, route_id=5, next_stop_id=stop.pk, next_order_id=stop.order_id)

    def serializers():
        return [
            (
                DriverPositionPushSerializer(on_map(driver, fix, stop)).data,
                CustomerDriverSerializer(DriverOnMap(driver, fix)).data,
            )
            for driver, fix, stop in rows
        ]

    staff, customer = DriverPositionPushSerializer(), CustomerDriverSerializer()

    def serializers_reused():
        for driver, fix, stop in rows:
            staff.to_representation(on_map(driver, fix, stop))
            customer.to_representation(DriverOnMap(driver, fix))

    print(f"{count:,} positions -> staff + customer messages, best of 20:")
    base = None
    for label, work in (
        ("dict builders (as pushed)", builders),
        ("serializers, one per message", serializers),
        ("serializers, instances reused", serializers_reused),
    ):
        took = best_of(20, work)
        base = base or took
        print(f"  {label:<32} {took * 1000:8.2f} ms  {took / count * 1e6:6.1f} µs/position  x{took / base:.1f}")


def tower(drivers: int) -> None:
    from accounts.models import Organization
    from bench.tracking_load import setup
    from common import clock
    from dispatch.models import Driver, Stop
    from tracking.models import LatestPosition, StopEta
    from tracking.selectors.tower import tower_snapshot
    from tracking.serializers import TowerSnapshotSerializer

    setup(drivers, 0)
    organization = Organization.objects.order_by("-pk").first()
    now = clock.now()
    LatestPosition.objects.bulk_create(
        LatestPosition(driver=d, organization=organization, recorded_at=now, lat=60.17, lng=24.94, accuracy_m=5.0)
        for d in Driver.objects.filter(organization=organization)
    )
    StopEta.objects.bulk_create(
        (
            StopEta(stop=s, eta=s.planned_arrival, window_start=s.planned_arrival, window_end=s.planned_arrival)
            for s in Stop.objects.filter(route__plan__organization=organization)
        ),
        batch_size=1000,
    )
    reads, serializing = [], []
    for _ in range(9):
        started = time.perf_counter()
        snapshot = tower_snapshot(organization=organization)
        for rows in (snapshot.hubs, snapshot.exceptions):
            list(rows)  # run their queries here: they are the selector's
        read = time.perf_counter()
        data = TowerSnapshotSerializer(snapshot).data
        reads.append(read - started)
        serializing.append(time.perf_counter() - read)
    stops = sum(len(route["stops"]) for route in data["routes"])
    sizes = f"{len(data['drivers']):,} drivers, {len(data['routes']):,} routes, {stops:,} stops"
    print(f"tower snapshot, {sizes} (median of 9):")
    print(f"  selector (queries, rows)  {statistics.median(reads) * 1000:6.0f} ms")
    print(f"  serializer                {statistics.median(serializing) * 1000:6.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--tower", type=int, metavar="DRIVERS", help="also time the tower snapshot (Postgres)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    messages(min(args.messages, 100_000))
    if args.tower:
        tower(min(args.tower, 5000))


if __name__ == "__main__":
    main()
