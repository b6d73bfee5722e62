"""Which order statuses close a stop, and the per-position messages built on the hot path.

A driver seen on a map has one shape, defined in `tracking/serializers.py`: the snapshots
serialize it (`DriverPositionSerializer`, `CustomerDriverSerializer`); pushes add the next stop
(`DriverPositionPushSerializer`). Every position a phone sends is pushed to the tower, the board
and a customer's page, and building those messages with DRF serializers costs 7 times the dict
literals below with reused serializer instances, over 50 times with one per message
(`bench/live_payloads.py`). So the pushes keep the literals; tests/tracking/test_live_shapes.py
asserts that both give the same JSON.
"""

from dataclasses import dataclass

POSITION_FIELDS = ("lat", "lng", "accuracy_m", "speed_mps", "heading_deg", "battery_pct")
FAILED_STATUSES = frozenset({"failed", "returned", "rescheduled"})
CLOSED_STATUSES = FAILED_STATUSES | {"delivered", "cancelled"}
# An order in one of these has ended for its customer: its tracking link expires some time after.
ENDED_STATUSES = frozenset({"delivered", "failed", "cancelled", "returned"})


@dataclass(frozen=True, slots=True)
class DriverOnMap:
    """A driver and their newest fix, with where the tower files them (what the driver serializers read)."""

    driver: object
    fix: object
    hub_id: int | None = None
    route_id: int | None = None
    next_stop_id: int | None = None
    next_order_id: int | None = None


def position_values(fix) -> dict:
    return {"recorded_at": fix.recorded_at.isoformat(), **{name: getattr(fix, name) for name in POSITION_FIELDS}}


def driver_position_message(driver, values: dict, *, hub_id: int | None, stop) -> dict:
    """`driver.position` for the staff's maps, `values` from `position_values`; `stop` is the next one."""
    return {
        "type": "driver.position",
        "driver_id": driver.pk,
        "driver_name": driver.name,
        "hub_id": hub_id,
        "route_id": stop.route_id if stop else None,
        "next_stop_id": stop.pk if stop else None,
        "next_order_id": stop.order_id if stop else None,
        **values,
    }


def customer_driver(driver, values: dict) -> dict:
    """What a customer may see of the driver: a first name and a point, nothing else."""
    return {
        "driver_first_name": driver.first_name,
        "lat": values["lat"],
        "lng": values["lng"],
        "heading_deg": values.get("heading_deg"),
        "recorded_at": values["recorded_at"],
    }
