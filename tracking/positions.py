"""Recording driver positions: validation, de-duplication, out-of-order fixes, the latest position.

Used by the REST batch endpoint (the offline driver app sends queued fixes this way) and the
driver WebSocket. Each fix is accepted, reported as a duplicate, or rejected with a reason.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from common import clock
from common.geo import valid_coordinates
from tracking.models import DriverPosition, LatestPosition

MAX_FUTURE = dt.timedelta(minutes=2)
FIX_FIELDS = ("recorded_at", "lat", "lng", "accuracy_m", "speed_mps", "heading_deg", "battery_pct")
MAX_SPEED_MPS = 70.0  # 250 km/h: beyond this a fix is a GPS glitch, not a delivery vehicle


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
