"""The customer's tracking page reads: status, the ETA window, and the driver only when heading here."""

from dataclasses import dataclass

from dispatch.models import PlanStatus, Stop, StopStatus
from tracking.models import LatestPosition, StopEta
from tracking.payloads import CLOSED_STATUSES, DriverOnMap
from tracking.selectors.itinerary import next_stop


def order_live_stop(order) -> Stop | None:
    """The order's stop on a dispatched route, if any (dropped stops are history)."""
    return (
        Stop.objects.filter(order=order, route__plan__status=PlanStatus.DISPATCHED)
        .exclude(status=StopStatus.DROPPED)
        .select_related("route__driver", "order")
        .first()
    )


@dataclass(frozen=True)
class TrackingSnapshot:
    """What `TrackingSnapshotSerializer` turns into the page's `snapshot` (no `eta` before an estimate)."""

    status: str
    eta: StopEta | None = None
    driver: DriverOnMap | None = None


def tracking_snapshot(order) -> TrackingSnapshot:
    """What the customer's page shows: status, the ETA window, and the driver only when heading here."""
    stop = order_live_stop(order)
    if stop is None or order.status in CLOSED_STATUSES or stop.status == StopStatus.DONE:
        return TrackingSnapshot(order.status)
    stop_eta = StopEta.objects.filter(stop=stop).first()
    driver = stop.route.driver
    if driver is None:
        return TrackingSnapshot(order.status, stop_eta)
    heading = next_stop(driver)
    position = LatestPosition.objects.filter(driver=driver).first()
    if heading is not None and heading.pk == stop.pk and position is not None:
        return TrackingSnapshot(order.status, stop_eta, DriverOnMap(driver, position))
    return TrackingSnapshot(order.status, stop_eta)
