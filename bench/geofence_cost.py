"""What the geofence adds to a position while the driver is driving (no statement), in-process:

    .venv/bin/python -m bench.geofence_cost

`tracking.services.geofence.geofence_apply` runs on every fix of every driver
(`position_receive`); away from every stop it only measures distances on the itinerary the
position path has read already. This times that case on itineraries of 3, 30 and 80 stops built in
memory (no database, no server), so it can be read next to bench/tracking_load.py's CPU per
position. Standing at a stop costs one indexed read more per fix until the arrival
(tests/tracking/test_geofence.py counts the statements).
"""

import datetime as dt
import os
import time

NOW = dt.datetime(2026, 12, 3, 10, tzinfo=dt.UTC)


def itinerary(to_serve: int, visited: int):
    from dispatch.models import Route, Stop, StopStatus
    from orders.models import Order
    from tracking.selectors.itinerary import Itinerary

    stops = []
    for k in range(to_serve + visited):
        done = k < visited
        stop = Stop(id=k + 1, sequence=k + 1, status=StopStatus.DONE if done else StopStatus.PLANNED)
        stop.order = Order(lat=60.17 + 0.01 * (k + 1), lng=24.94)
        stop.arrived_at = NOW - dt.timedelta(hours=1) if done else None
        stop.departed_at = NOW - dt.timedelta(minutes=50) if done else None
        stops.append(stop)
    return Itinerary(
        route=Route(), stops=stops[visited:], last_done=stops[visited - 1] if visited else None, visited=stops[:visited]
    )


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from tracking.models import DriverPosition
    from tracking.services.geofence import geofence_apply

    positions = [DriverPosition(recorded_at=NOW, lat=60.1650, lng=24.94, accuracy_m=10.0)]
    for to_serve, visited in ((3, 0), (15, 15), (40, 40)):
        route = itinerary(to_serve, visited)
        rounds = 20_000
        started = time.perf_counter()
        for _ in range(rounds):
            geofence_apply(driver=None, itinerary=route, positions=positions)
        per_fix_us = 1e6 * (time.perf_counter() - started) / rounds
        print(f"{to_serve} to serve + {visited} visited stops: {per_fix_us:.1f} µs per position (driving)")


if __name__ == "__main__":
    main()
