"""Live ETAs: re-time a driver's remaining stops from the latest position.

Travel legs come from the travel model the plan was made with (`dispatch.network.travel`: road
times from OSRM, or great circle × circuity at the vehicle profile's speed) and are re-timed with
the time-of-day profile (`routing.travel.retime`), so a driver on plan keeps the planned times.
Each stop gets a customer-facing window around the estimate that narrows as the driver
approaches. `StopEta` holds the current estimate; each one written is also appended to
`EtaPrediction`, the record of what was shown that ETA error is measured from
(`tracking/selectors/eta_accuracy.py`, docs/tracking.md).
"""

import datetime as dt

from django.db import transaction

from common import clock
from dispatch.models import Route, Stop, StopStatus
from dispatch.network.travel import travel_provider
from routing import retime
from tracking.models import EtaPrediction, StopEta
from tracking.selectors.itinerary import Itinerary
from tracking.services.exceptions import exception_raise
from tracking.services.monitoring import check_off_route

# A changed estimate is published only when it moves at least this much (no identical pushes).
SIGNIFICANT_CHANGE = dt.timedelta(minutes=1)
WINDOW_MIN = dt.timedelta(minutes=5)
WINDOW_MAX = dt.timedelta(minutes=30)


def customer_window(eta: dt.datetime, *, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """A window around `eta`: ±(5 min + 10% of the time still to go), at most ±30 min, on 5-minute marks."""
    half = min(WINDOW_MAX, WINDOW_MIN + (eta - now) * 0.1 if eta > now else WINDOW_MIN)
    start, end = _round5(eta - half, down=True), _round5(eta + half, down=False)
    return start, max(end, start + dt.timedelta(minutes=10))


def _round5(moment: dt.datetime, *, down: bool) -> dt.datetime:
    floor = moment.replace(second=0, microsecond=0) - dt.timedelta(minutes=moment.minute % 5)
    return floor if down or floor == moment else floor + dt.timedelta(minutes=5)


def _seconds(moment: dt.datetime, midnight: dt.datetime) -> float:
    return (moment - midnight).total_seconds()


def estimate(route: Route, stops: list[Stop], position: tuple[float, float], at: dt.datetime) -> list[dt.datetime]:
    """Arrival estimates for `stops` in order, leaving `position` at `at` (aware datetimes)."""
    tz = route.plan.hub.tz
    local = at.astimezone(tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    points = [position, *((s.order.lat, s.order.lng) for s in stops)]
    legs = travel_provider().legs(points, route.vehicle.type)
    dwell = [round(s.order.service_minutes * 60) for s in stops]
    # Service starts when the customer's window opens; arriving earlier than planned is fine.
    earliest = [_seconds(s.order.window_start or s.planned_arrival, midnight) for s in stops]
    if stops and stops[0].status == StopStatus.ARRIVED:
        legs[0] = 0.0  # already there
    arrivals = retime(round(_seconds(local, midnight)), legs, dwell, [round(e) for e in earliest])
    return [midnight + dt.timedelta(seconds=s) for s in arrivals]


def _is_late(stop: Stop, eta: dt.datetime) -> bool:
    end = stop.order.window_end
    return end is not None and eta > end


@transaction.atomic(savepoint=False)
def etas_update(
    itinerary: Itinerary, *, position: tuple[float, float], recorded_at: dt.datetime, now: dt.datetime | None = None
) -> list[dict]:
    """Re-time `itinerary` from `position`; store and return only the estimates that changed."""
    now = now or clock.now()
    route, stops = itinerary.route, itinerary.stops
    check_off_route(route, stops, position, last_done=itinerary.last_done)
    updates = []
    for stop, eta in zip(stops, estimate(route, stops, position, max(now, recorded_at)), strict=True):
        previous = itinerary.estimates.get(stop.pk)
        row = _changed_estimate(stop, previous, eta, now)
        if row is not None:
            updates.append((stop, row, previous))
    if not updates:
        return []
    # One statement for all of a route's changes: this runs on every position of every driver.
    StopEta.objects.bulk_create(
        [row for _stop, row, _previous in updates],
        update_conflicts=True,
        unique_fields=["stop"],
        update_fields=["eta", "window_start", "window_end", "late", "computed_at"],
    )
    # What was just shown is kept (StopEta above is overwritten): one more statement, and only on
    # the positions that moved an estimate, so ETA error can be measured later (selectors/eta_accuracy.py).
    EtaPrediction.objects.bulk_create([_prediction(row) for _stop, row, _previous in updates])
    for stop, row, previous in updates:
        if row.late and not (previous and previous.late):
            _raise_late_risk(stop, row.eta)
    return [_change(stop, row) for stop, row, _previous in updates]


def _changed_estimate(stop: Stop, previous: StopEta | None, eta: dt.datetime, now: dt.datetime) -> StopEta | None:
    late = _is_late(stop, eta)
    if previous is not None and abs(previous.eta - eta) < SIGNIFICANT_CHANGE and previous.late == late:
        return None
    window_start, window_end = customer_window(eta, now=now)
    return StopEta(stop=stop, eta=eta, window_start=window_start, window_end=window_end, late=late, computed_at=now)


def _prediction(row: StopEta) -> EtaPrediction:
    return EtaPrediction(
        stop_id=row.stop_id,
        predicted_arrival=row.eta,
        window_start=row.window_start,
        window_end=row.window_end,
        made_at=row.computed_at,
        horizon_minutes=round((row.eta - row.computed_at).total_seconds() / 60),
    )


def _change(stop: Stop, row: StopEta) -> dict:
    order = stop.order
    return {
        "stop_id": stop.pk,
        "order_id": order.pk,
        "route_id": stop.route_id,
        "hub_id": order.hub_id,
        "organization_id": order.organization_id,
        "tracking_token": order.tracking_token,
        "eta": row.eta.isoformat(),
        "eta_window_start": row.window_start.isoformat(),
        "eta_window_end": row.window_end.isoformat(),
        "late": row.late,
    }


def _raise_late_risk(stop: Stop, eta: dt.datetime) -> None:
    order = stop.order
    minutes = round((eta - order.window_end).total_seconds() / 60)
    exception_raise(
        organization=order.organization,
        kind="late_risk",
        cause=f"late_risk:stop:{stop.pk}",
        severity="warning",
        message=f"Order {order.merchant_reference} is expected {minutes} min after its window ends.",
        order=order,
        route=stop.route,
        driver=stop.route.driver,
    )
