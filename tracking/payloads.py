"""What live screens are sent of positions and exceptions, and which order statuses close a stop.

Snapshots (sent on connect) and pushes (sent as things change) use the same shapes, so a
reconnect shows what the pushes had built up.
"""

from tracking.models import DeliveryException

POSITION_FIELDS = ("lat", "lng", "accuracy_m", "speed_mps", "heading_deg", "battery_pct")
FAILED_STATUSES = frozenset({"failed", "returned", "rescheduled"})
CLOSED_STATUSES = FAILED_STATUSES | {"delivered", "cancelled"}


def position_values(fix) -> dict:
    return {"recorded_at": fix.recorded_at.isoformat(), **{name: getattr(fix, name) for name in POSITION_FIELDS}}


def customer_driver(driver, values: dict) -> dict:
    """What a customer may see of the driver: a first name and a point, nothing else."""
    return {
        "driver_first_name": driver.first_name,
        "lat": values["lat"],
        "lng": values["lng"],
        "heading_deg": values.get("heading_deg"),
        "recorded_at": values["recorded_at"],
    }


def exception_payload(exception: DeliveryException) -> dict:
    return {
        "id": exception.pk,
        "kind": exception.kind,
        "severity": exception.severity,
        "status": exception.status,
        "message": exception.message,
        "suggested_actions": exception.suggested_actions,
        "order_id": exception.order_id,
        "route_id": exception.route_id,
        "driver_id": exception.driver_id,
        "assigned_to": exception.assigned_to.username if exception.assigned_to else None,
        "created_at": exception.created_at.isoformat(),
    }
