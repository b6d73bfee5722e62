"""The customer's tracking page reads: status, the ETA window, and the driver only when heading here."""

from dispatch.models import PlanStatus, Stop, StopStatus
from tracking.models import LatestPosition, StopEta
from tracking.payloads import CLOSED_STATUSES, customer_driver, position_values
from tracking.selectors.itinerary import next_stop


def order_live_stop(order) -> Stop | None:
    """The order's stop on a dispatched route, if any (dropped stops are history)."""
    return (
        Stop.objects.filter(order=order, route__plan__status=PlanStatus.DISPATCHED)
        .exclude(status=StopStatus.DROPPED)
        .select_related("route__driver", "order")
        .first()
    )


def tracking_snapshot(order) -> dict:
    """What the customer's page shows: status, the ETA window, and the driver only when heading here."""
    snapshot = {
        "type": "snapshot",
        "status": order.status,
        "eta_window_start": None,
        "eta_window_end": None,
        "driver": None,
    }
    stop = order_live_stop(order)
    if stop is None or order.status in CLOSED_STATUSES or stop.status == StopStatus.DONE:
        return snapshot
    stop_eta = StopEta.objects.filter(stop=stop).first()
    if stop_eta is not None:
        snapshot["eta_window_start"] = stop_eta.window_start.isoformat()
        snapshot["eta_window_end"] = stop_eta.window_end.isoformat()
    driver = stop.route.driver
    if driver is None:
        return snapshot
    heading = next_stop(driver)
    position = LatestPosition.objects.filter(driver=driver).first()
    if heading is not None and heading.pk == stop.pk and position is not None:
        snapshot["driver"] = customer_driver(driver, position_values(position))
    return snapshot
