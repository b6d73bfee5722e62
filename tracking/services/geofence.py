"""Arrival and departure without a tap: a geofence around the driver's stops, read from positions.

A driver whose fixes stay within WAYPOINT_GEOFENCE_RADIUS_M of an open stop (planned or en route)
for WAYPOINT_GEOFENCE_DWELL_S is marked arrived there (`stop_arrive`, source `geofence`), at the
first of those fixes, so the tower and the customer's page move on even when the driver forgets
to tap. The next stop is preferred, but drivers serve out of order: any open stop of the route the
driver stands at counts (the nearest when several are within the radius). A driver seen beyond
twice the radius of a stop they arrived at (arrived, done or failed, with no departure yet) has
left it (`stop_departed`), which keeps the stop's measured service time. Between the radius and
twice the radius nothing happens (hysteresis: a fix wandering at the edge neither arrives nor
departs). A fix less accurate than MAX_ACCURACY_M counts for nothing, neither inside nor outside.

The decision is the pure functions `arrival` and `departure` (fixes and points in, no database);
`geofence_apply` feeds them from the positions path (`tracking.services.positions.position_receive`,
shared by the REST batch and the driver socket) and calls the execution services.

Cost, on the hottest path of live tracking (every fix of every driver, bench/tracking_load.py):
- No statement at all unless the newest fix is inside the radius of an open stop, or beyond twice
  the radius of a stop awaiting its departure. The test is arithmetic on the itinerary the
  position path has already read (one distance per stop of the route).
- Standing inside an open stop's radius: one read of the driver's fixes of the last 2 x dwell
  (served by the `(driver, -recorded_at)` index of the history; a few dozen rows at the app's
  interval), per fix until the arrival. The window is twice the dwell so that the first fix of the
  stay is found whatever the phone's interval, up to the dwell itself.
- The arrival or departure itself (locks, transitions, history, pushes) happens once per stop.
  Concurrent batches of one driver are serialised by the latest-position row the position path
  updates first, and `stop_arrive`/`stop_departed` re-check the stop under its lock: no stop is
  arrived or departed twice.
"""

import datetime as dt
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings

from common.errors import DomainError
from common.geo import EARTH_RADIUS_M, haversine_m
from dispatch.execution.services.stops import stop_arrive, stop_departed
from dispatch.models import ArrivalSource, Stop, StopStatus
from tracking.models import DriverPosition
from tracking.selectors.itinerary import Itinerary

logger = logging.getLogger(__name__)
# A fix whose accuracy radius is wider than this says nothing about which door the driver is at.
MAX_ACCURACY_M = 100.0
OPEN = frozenset({StopStatus.PLANNED.value, StopStatus.EN_ROUTE.value})
# Stops the driver has been at and may leave: the tap or the geofence recorded the arrival.
LEFT_FROM = frozenset({StopStatus.ARRIVED.value, StopStatus.DONE.value, StopStatus.FAILED.value})
DEPARTURE_FACTOR = 2
M_PER_DEGREE_OF_LATITUDE = EARTH_RADIUS_M * math.pi / 180


@dataclass(frozen=True)
class Fix:
    at: dt.datetime
    lat: float
    lng: float
    accuracy_m: float | None = None


@dataclass(frozen=True)
class Place:
    """A stop's point."""

    stop_id: int
    lat: float
    lng: float


def usable(fix: Fix) -> bool:
    return fix.accuracy_m is None or fix.accuracy_m <= MAX_ACCURACY_M


def _distance_m(fix: Fix, place: Place) -> float:
    return haversine_m(fix.lat, fix.lng, place.lat, place.lng)


def _within(fix: Fix, lat: float, lng: float, metres: float) -> bool:
    """Within `metres`; the difference in latitude alone (a lower bound of the distance) rules out
    most stops of a route without the exact distance."""
    if abs(lat - fix.lat) * M_PER_DEGREE_OF_LATITUDE > metres:
        return False
    return haversine_m(fix.lat, fix.lng, lat, lng) <= metres


def arrival(
    fixes: Sequence[Fix],
    places: Sequence[Place],
    *,
    radius_m: float,
    dwell_s: float,
    preferred: int | None = None,
) -> tuple[Place, Fix] | None:
    """The open stop the driver has stayed at for `dwell_s`, and the first fix of the stay; or None.

    `fixes` in time order; `places` the open stops (`preferred`, the next stop's id, wins when
    the driver is within the radius of several). Every usable fix from the first of the stay to the
    newest is within `radius_m`; an inaccurate fix neither breaks nor makes a stay.
    """
    fixes = [fix for fix in fixes if usable(fix)]
    if not fixes or not places:
        return None
    newest = fixes[-1]
    inside = [place for place in places if _distance_m(newest, place) <= radius_m]
    if not inside:
        return None
    place = next((p for p in inside if p.stop_id == preferred), None)
    place = place or min(inside, key=lambda p: _distance_m(newest, p))
    first = newest
    for fix in reversed(fixes[:-1]):
        if _distance_m(fix, place) > radius_m:
            break
        first = fix
    if (newest.at - first.at).total_seconds() < dwell_s:
        return None
    return place, first


def departure(fixes: Sequence[Fix], place: Place, *, radius_m: float, since: dt.datetime | None = None) -> Fix | None:
    """The fix at which the driver left `place` (beyond twice the radius, and still), or None.

    Only fixes after `since` (the arrival) count; the newest usable one must be out, and the
    departure is the first of the run of fixes out that ends with it.
    """
    limit = radius_m * DEPARTURE_FACTOR
    fixes = [fix for fix in fixes if usable(fix) and (since is None or fix.at > since)]
    if not fixes or _distance_m(fixes[-1], place) <= limit:
        return None
    first = fixes[-1]
    for fix in reversed(fixes[:-1]):
        if _distance_m(fix, place) <= limit:
            break
        first = fix
    return first


# --- On the positions path ----------------------------------------------------------------------


def _point(stop: Stop) -> tuple[float, float]:
    order = stop.order
    return order.lat, order.lng


def _place(stop: Stop) -> Place:
    return Place(stop.pk, *_point(stop))


def _fix(position: DriverPosition) -> Fix:
    return Fix(at=position.recorded_at, lat=position.lat, lng=position.lng, accuracy_m=position.accuracy_m)


def _window(driver, newest: dt.datetime, dwell_s: float) -> list[Fix]:
    """The driver's stored fixes of the last 2 x dwell up to `newest` (this batch's included)."""
    rows = (
        DriverPosition.objects.filter(
            driver=driver, recorded_at__gte=newest - dt.timedelta(seconds=2 * dwell_s), recorded_at__lte=newest
        )
        .order_by("recorded_at")
        .values_list("recorded_at", "lat", "lng", "accuracy_m")
    )
    return [Fix(*row) for row in rows]


def geofence_apply(*, driver, itinerary: Itinerary | None, positions: Sequence[DriverPosition]) -> list[Stop]:
    """Record the departures and the arrival the driver's new positions show; the stops moved.

    `positions`: the fixes just stored, in time order, the newest being the driver's latest. Runs
    inside the position's transaction; a refusal of the execution services (the order was
    cancelled, the stop moved to another route meanwhile) leaves the position recorded and is
    logged, never raised.
    """
    if itinerary is None or not positions:
        return []
    radius_m, dwell_s = settings.WAYPOINT_GEOFENCE_RADIUS_M, settings.WAYPOINT_GEOFENCE_DWELL_S
    fixes = [_fix(position) for position in positions]
    if not usable(fixes[-1]):
        return []  # the stay and the departure were decided at the previous usable fix
    moved = []
    for stop in (*itinerary.stops, *itinerary.visited):
        if stop.status not in LEFT_FROM or stop.arrived_at is None or stop.departed_at is not None:
            continue
        left = departure(fixes, _place(stop), radius_m=radius_m, since=stop.arrived_at)
        if left is not None:
            moved += _applied(
                stop_departed, stop=stop, at=left.at, lat=left.lat, lng=left.lng, accuracy_m=left.accuracy_m
            )
    newest = fixes[-1]
    open_stops = [stop for stop in itinerary.stops if stop.status in OPEN]
    if not any(_within(newest, *_point(stop), radius_m) for stop in open_stops):
        return moved  # the usual fix: driving between stops, no statement
    places = [_place(stop) for stop in open_stops]
    next_stop = itinerary.next_stop
    preferred = next_stop.pk if next_stop is not None and next_stop.status in OPEN else None
    stayed = arrival(
        _window(driver, newest.at, dwell_s), places, radius_m=radius_m, dwell_s=dwell_s, preferred=preferred
    )
    if stayed is not None:
        place, first = stayed
        stop = next(s for s in open_stops if s.pk == place.stop_id)
        moved += _applied(
            stop_arrive,
            actor=None,
            stop=stop,
            at=first.at,
            lat=first.lat,
            lng=first.lng,
            accuracy_m=first.accuracy_m,
            source=ArrivalSource.GEOFENCE,
            driver=driver,
        )
    return moved


def _applied(service, **arguments) -> list[Stop]:
    try:
        return [service(**arguments)]
    except DomainError as refusal:
        # The service rolled back its own savepoint; the position stays recorded.
        logger.info("Geofence %s of stop %s refused: %s", service.__name__, arguments["stop"].pk, refusal)
        return []
