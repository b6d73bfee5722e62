"""Driver positions: recorded, ETAs refreshed, then published after commit to three audiences.

Recording validates, de-duplicates and orders fixes and keeps the latest position. It is used by
the REST batch endpoint (the offline driver app sends queued fixes this way) and the driver
WebSocket. Each fix is accepted, reported as a duplicate, or rejected with a reason.

The organization's control tower and the hub's dispatch board see every driver; a customer's
tracking page sees the driver only while the driver is heading to that customer's stop and is
within WAYPOINT_TRACKING_DRIVER_RADIUS_M of it (privacy), and only a first name and a point.
ETA changes go to the same audiences, each tracking page getting only its own window.
A driver staying at a stop, or leaving it, is marked arrived or departed (tracking/services/geofence.py).
"""

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from common import clock
from common.geo import valid_coordinates
from common.realtime import board_group, publish_batched_on_commit, tower_group, tracking_group
from dispatch.models import Stop
from tracking.models import DriverPosition, LatestPosition
from tracking.payloads import CLOSED_STATUSES, customer_driver, driver_position_message, position_values
from tracking.selectors.itinerary import driver_itinerary
from tracking.selectors.tracking_page import driver_near_stop
from tracking.services.eta import etas_update
from tracking.services.geofence import geofence_apply
from tracking.services.kpis import kpis_publish

MAX_FUTURE = dt.timedelta(minutes=2)
FIX_FIELDS = ("recorded_at", "lat", "lng", "accuracy_m", "speed_mps", "heading_deg", "battery_pct")
MAX_SPEED_MPS = 70.0  # 250 km/h: beyond this a fix is a GPS glitch, not a delivery vehicle
# KPIs are aggregates over the day: recomputed at most this often per organization on ETA churn.
KPI_MIN_INTERVAL_S = 5
HEADING_TTL_S = 12 * 3600
# Per-process memory on the hot path of positions (see `_heading_previous`, `_kpis_refresh_soon`).
_HEADING: dict[int, int | None] = {}
_KPIS_PUBLISHED: dict[int, float] = {}


@dataclass
class BatchResult:
    accepted: list[DriverPosition] = field(default_factory=list)
    duplicates: int = 0
    rejected: list[dict] = field(default_factory=list)
    latest_changed: bool = False


def rejection_reason(fix: dict, *, now: dt.datetime) -> str | None:
    """Why a fix cannot be stored, or None. `fix` holds parsed values (recorded_at aware)."""
    if not valid_coordinates(fix["lat"], fix["lng"]) or (fix["lat"], fix["lng"]) == (0.0, 0.0):
        return "invalid_coordinates"
    if fix["recorded_at"] > now + MAX_FUTURE:
        return "recorded_in_the_future"
    if fix["recorded_at"] < now - dt.timedelta(days=settings.WAYPOINT_POSITION_RETENTION_DAYS):
        return "older_than_retention"
    if fix.get("speed_mps") is not None and not 0 <= fix["speed_mps"] <= MAX_SPEED_MPS:
        return "impossible_speed"
    if fix.get("accuracy_m") is not None and fix["accuracy_m"] < 0:
        return "invalid_accuracy"
    return None


def position_record_batch(*, driver, fixes: list[dict]) -> BatchResult:
    """Store a driver's fixes; duplicates (same instant) are skipped, the latest moves only forward.

    Two statements for a phone's usual single fix: move the latest (which also locks it against
    a concurrent batch of the same driver), insert the fix. A fix newer than the latest cannot be
    stored already, as the latest is always the newest fix stored; only the other fixes of a batch
    (resent or out of order) are looked up in the history.
    """
    now, result = clock.now(), BatchResult()
    valid = []
    for index, fix in enumerate(fixes):
        reason = rejection_reason(fix, now=now)
        if reason:
            result.rejected.append({"index": index, "reason": reason})
        else:
            valid.append(fix)
    unique = {fix["recorded_at"]: fix for fix in valid}
    result.duplicates = len(valid) - len(unique)
    if not unique:
        return result
    newest = max(unique)
    with transaction.atomic(savepoint=False):
        result.latest_changed = _advance_latest(driver, unique[newest])
        maybe_stored = [at for at in unique if at != newest or not result.latest_changed]
        stored = _stored_instants(driver, maybe_stored)
        rows = [_position(driver, fix, now) for at, fix in sorted(unique.items()) if at not in stored]
        result.duplicates += len(unique) - len(rows)
        DriverPosition.objects.bulk_create(rows, ignore_conflicts=True)
        result.accepted = rows
    return result


def _stored_instants(driver, instants: list[dt.datetime]) -> set[dt.datetime]:
    if not instants:
        return set()
    stored = DriverPosition.objects.filter(driver=driver, recorded_at__in=instants)
    return set(stored.values_list("recorded_at", flat=True))


def _position(driver, fix: dict, now) -> DriverPosition:
    values = {name: fix.get(name) for name in FIX_FIELDS}
    return DriverPosition(organization_id=driver.organization_id, driver=driver, received_at=now, **values)


def _advance_latest(driver, fix: dict) -> bool:
    """Make `fix` the driver's latest position unless the latest is as new already; True if it moved."""
    values = {name: fix.get(name) for name in FIX_FIELDS}
    newer = LatestPosition.objects.filter(driver=driver, recorded_at__lt=fix["recorded_at"])
    if newer.update(**values):
        return True
    if LatestPosition.objects.filter(driver=driver).exists():
        return False  # an out-of-order fix: history only
    # The driver's very first fix; a concurrent first fix must not fail either, the newer one wins.
    LatestPosition.objects.bulk_create(
        [LatestPosition(driver=driver, organization_id=driver.organization_id, **values)], ignore_conflicts=True
    )
    newer.update(**values)
    return True


def position_history_purge() -> int:
    cutoff = clock.now() - dt.timedelta(days=settings.WAYPOINT_POSITION_RETENTION_DAYS)
    deleted, _ = DriverPosition.objects.filter(recorded_at__lt=cutoff).delete()
    return deleted


# --- Receiving: record, refresh ETAs, publish ---------------------------------------------------


def position_receive(*, driver, fixes: list[dict]) -> BatchResult:
    """Record a driver's fixes, refresh ETAs, and publish both to their audiences after commit.

    Inside `position_messages_receive` this joins the batch's transaction without a savepoint:
    a failure there undoes the whole batch, which is then retried one message at a time."""
    with transaction.atomic(savepoint=False):
        result = position_record_batch(driver=driver, fixes=fixes)
        if not result.latest_changed:
            return result  # duplicates, rejections or an out-of-order fix: no screen changes
        newest = result.accepted[-1]
        itinerary = driver_itinerary(driver)
        stop = itinerary.next_stop if itinerary is not None else None
        messages = _position_messages(driver, newest, stop)
        if itinerary is not None:
            late_before = {pk: bool(e and e.late) for pk, e in itinerary.estimates.items()}
            changed = etas_update(itinerary, position=(newest.lat, newest.lng), recorded_at=newest.recorded_at)
            if changed:
                closed = {s.order_id for s in itinerary.stops if s.order.status in CLOSED_STATUSES}
                messages += _eta_messages(driver.organization_id, changed, closed)
                lateness_changed = any(c["late"] != late_before[c["stop_id"]] for c in changed)
                _kpis_refresh_soon(driver.organization_id, urgent=lateness_changed)
        # Arrived or left without a tap: the order's new status reaches the tower and its page
        # through the order's status events, after commit like the rest.
        geofence_apply(driver=driver, itinerary=itinerary, positions=result.accepted)
        publish_batched_on_commit(messages)
    return result


def _position_messages(driver, fix, stop: Stop | None) -> list[tuple[str, dict]]:
    values = position_values(fix)
    hub_id = stop.order.hub_id if stop is not None and stop.order.hub_id else driver.home_hub_id
    staff = driver_position_message(driver, values, hub_id=hub_id, stop=stop)
    messages = [(tower_group(driver.organization_id), staff), (board_group(hub_id), staff)]
    # A delivered or failed order's customer no longer sees the driver, even before the stop is
    # closed; a customer sees the driver's point only near their stop (farther, only the ETA).
    heading_to = None
    if stop is not None and stop.order.status not in CLOSED_STATUSES and driver_near_stop(fix, stop.order):
        heading_to = stop.order_id
    previous = _heading_previous(driver.pk, heading_to)
    if previous and previous != heading_to:
        # The driver left this customer's stop behind (or its radius): their page stops showing the driver.
        messages.append((tracking_group(previous), {"type": "driver.hidden"}))
    # Remembered only once these messages are sent: a rolled-back position must be able to send them again.
    transaction.on_commit(lambda: _heading_remember(driver.pk, heading_to, changed=previous != heading_to))
    if heading_to is not None:
        messages.append((tracking_group(heading_to), {"type": "driver.position", **customer_driver(driver, values)}))
    return messages


def _heading_key(driver_id: int) -> str:
    return f"live:heading:{driver_id}"


def _heading_previous(driver_id: int, heading_to: int | None) -> int | None:
    """Where the driver was heading at the previous fix. A driver's socket stays on one process, so
    the process's own memory answers the usual "same as before" without a trip to the shared cache;
    any change, or a driver new to this process, is checked against the cache."""
    if driver_id in _HEADING and _HEADING[driver_id] == heading_to:
        return heading_to
    return cache.get(_heading_key(driver_id))


def _heading_remember(driver_id: int, heading_to: int | None, *, changed: bool) -> None:
    if changed:
        cache.set(_heading_key(driver_id), heading_to, HEADING_TTL_S)
    _HEADING[driver_id] = heading_to


def _eta_messages(organization_id: int, changed: list[dict], closed: set[int]) -> list[tuple[str, dict]]:
    staff = [{k: v for k, v in change.items() if k != "tracking_token"} for change in changed]
    messages = [(tower_group(organization_id), {"type": "eta.changed", "etas": staff})]
    by_hub = defaultdict(list)
    for change in staff:
        by_hub[change["hub_id"]].append(change)
    for hub_id, etas in by_hub.items():
        if hub_id is not None:
            messages.append((board_group(hub_id), {"type": "eta.changed", "etas": etas}))
    for change in changed:
        if change["order_id"] not in closed:  # a delivered customer's window is history
            messages.append((tracking_group(change["order_id"]), {"type": "eta.changed", **_customer_eta(change)}))
    return messages


def _kpis_refresh_soon(organization_id: int, *, urgent: bool) -> None:
    """Publish the KPIs after commit: at once when a stop turned late or back (the late-risk count
    changed), otherwise at most every KPI_MIN_INTERVAL_S per process and across processes."""
    now = time.monotonic()
    if not urgent:
        if now - _KPIS_PUBLISHED.get(organization_id, -KPI_MIN_INTERVAL_S) < KPI_MIN_INTERVAL_S:
            return
        if not cache.add(f"live:kpis:{organization_id}", 1, KPI_MIN_INTERVAL_S):
            return
    _KPIS_PUBLISHED[organization_id] = now
    transaction.on_commit(lambda: kpis_publish(organization_id=organization_id))


def _customer_eta(change: dict) -> dict:
    return {"eta_window_start": change["eta_window_start"], "eta_window_end": change["eta_window_end"]}
