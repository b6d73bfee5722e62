"""The customer's tracking page reads: status, the ETA window, and the driver only when heading here.

What a link reveals is deliberately little (docs/tracking.md, "What the tracking page reveals"):
the link is a bearer token that customers forward and that stays in mail boxes, so it stops
working WAYPOINT_TRACKING_LINK_TTL_HOURS after its order ended, and it shows the driver's point
only close to the customer's own stop (before that, where the driver is says where other
customers live).
"""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings

from common import clock
from common.geo import haversine_m
from dispatch.models import PlanStatus, Stop, StopStatus
from dispatch.network.travel import road_line
from orders import selectors as order_selectors
from orders.models import ProofOfDelivery
from orders.proofs import required_proofs
from tracking.models import LatestPosition, StopEta
from tracking.payloads import CLOSED_STATUSES, ENDED_STATUSES, DriverOnMap
from tracking.selectors.itinerary import next_stop


def order_live_stop(order) -> Stop | None:
    """The order's stop on a dispatched route, if any (dropped stops are history)."""
    return (
        Stop.objects.filter(order=order, route__plan__status=PlanStatus.DISPATCHED)
        .exclude(status=StopStatus.DROPPED)
        .select_related("route__driver", "route__vehicle", "order")
        .first()
    )


def order_ended_at(order) -> dt.datetime | None:
    """When the order reached its current final status (delivered, failed, cancelled, returned), else None."""
    if order.status not in ENDED_STATUSES:
        return None
    moves = order_selectors.order_events(order=order).filter(to_status=order.status)
    ended = moves.order_by("-at", "-id").values_list("at", flat=True).first()
    return ended or order.updated_at  # an order written without its history (imports, fixtures)


def tracking_link_expired(order, *, now: dt.datetime | None = None) -> bool:
    ended = order_ended_at(order)
    ttl = dt.timedelta(hours=settings.WAYPOINT_TRACKING_LINK_TTL_HOURS)
    return ended is not None and (now or clock.now()) >= ended + ttl


def tracked_order(*, token: str):
    """The order a tracking link opens, or None when the link is unknown or expired (the socket's gate)."""
    order = order_selectors.order_by_tracking_token(token=token)
    return None if order is None or tracking_link_expired(order) else order


def driver_near_stop(fix, order) -> bool:
    """True if the customer may see the driver's point: within WAYPOINT_TRACKING_DRIVER_RADIUS_M of their stop."""
    if order.lat is None or order.lng is None:
        return False
    return haversine_m(fix.lat, fix.lng, order.lat, order.lng) <= settings.WAYPOINT_TRACKING_DRIVER_RADIUS_M


# The customer needs the one-time code only while the driver is on the way or at the door; before,
# it would travel further with a forwarded link, and after delivery it is of no use.
DELIVERY_CODE_STATUSES = frozenset({"out_for_delivery", "arrived"})


def delivery_code_for_customer(order) -> str:
    """The one-time code to give the driver, or "" when the order needs none or not now."""
    if order.status not in DELIVERY_CODE_STATUSES or not order.delivery_code:
        return ""
    return order.delivery_code if ProofOfDelivery.ONE_TIME_CODE in required_proofs(order) else ""


@dataclass(frozen=True)
class TrackingSnapshot:
    """What `TrackingSnapshotSerializer` turns into the page's `snapshot` (no `eta` before an estimate)."""

    status: str
    eta: StopEta | None = None
    driver: DriverOnMap | None = None
    path: list = field(default_factory=list)  # the driver's way here, [[lat, lng], ...], when the driver shows


def tracking_snapshot(order) -> TrackingSnapshot:
    """What the customer's page shows: status, the ETA window, and the driver only when heading
    here and near."""
    stop = order_live_stop(order)
    if stop is None or order.status in CLOSED_STATUSES or stop.status == StopStatus.DONE:
        return TrackingSnapshot(order.status)
    stop_eta = StopEta.objects.filter(stop=stop).first()
    driver = stop.route.driver
    if driver is None:
        return TrackingSnapshot(order.status, stop_eta)
    heading = next_stop(driver)
    position = LatestPosition.objects.filter(driver=driver).first()
    if heading is not None and heading.pk == stop.pk and position is not None and driver_near_stop(position, order):
        # Along the streets when road data is on: the way the driver will come, not a crow's line.
        path = road_line([(position.lat, position.lng), (order.lat, order.lng)], vehicle_type=stop.route.vehicle.type)
        return TrackingSnapshot(order.status, stop_eta, DriverOnMap(driver, position), path)
    return TrackingSnapshot(order.status, stop_eta)
