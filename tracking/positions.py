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
    """Store a driver's fixes; duplicates (same instant) are skipped, the latest moves only forward."""
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
    with transaction.atomic():
        existing = set(
            DriverPosition.objects.filter(driver=driver, recorded_at__in=list(unique)).values_list(
                "recorded_at", flat=True
            )
        )
        rows = [_position(driver, fix, now) for at, fix in sorted(unique.items()) if at not in existing]
        result.duplicates += len(unique) - len(rows)
        DriverPosition.objects.bulk_create(rows, ignore_conflicts=True)
        result.accepted = rows
        if rows:
            result.latest_changed = _advance_latest(driver, rows[-1])
    return result


def _position(driver, fix: dict, now) -> DriverPosition:
    values = {name: fix.get(name) for name in FIX_FIELDS}
    return DriverPosition(organization_id=driver.organization_id, driver=driver, received_at=now, **values)


def _advance_latest(driver, newest: DriverPosition) -> bool:
    latest = LatestPosition.objects.select_for_update().filter(driver=driver).first()
    if latest is not None and latest.recorded_at >= newest.recorded_at:
        return False  # an out-of-order fix from the past: history only
    values = {
        k: getattr(newest, k)
        for k in ("recorded_at", "lat", "lng", "accuracy_m", "speed_mps", "heading_deg", "battery_pct")
    }
    LatestPosition.objects.update_or_create(
        driver=driver, defaults={**values, "organization_id": driver.organization_id}
    )
    return True


def position_history_purge() -> int:
    cutoff = clock.now() - dt.timedelta(days=settings.WAYPOINT_POSITION_RETENTION_DAYS)
    deleted, _ = DriverPosition.objects.filter(recorded_at__lt=cutoff).delete()
    return deleted
