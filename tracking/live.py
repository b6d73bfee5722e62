"""Live tracking: what the consumers and APIs call for positions, snapshots and KPIs.

A position goes one way: recorded (`position_record_batch`), ETAs refreshed (`etas_update`),
then published after commit to three audiences. The organization's control tower and the hub's
dispatch board see every driver; a customer's tracking page sees the driver only while the driver
is heading to that customer's stop (privacy), and only a first name and a point. ETA changes go
to the same audiences, each tracking page getting only its own window.
"""

import datetime as dt
import logging
import time
from collections import defaultdict
from zoneinfo import ZoneInfo

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count

from accounts.models import Organization
from common import clock
from dispatch.models import PlanStatus, Route, Stop, StopStatus
from dispatch.network.selectors import hub_list
from dispatch.planning.selectors import plan_list
from orders.models import Order, OrderEvent
from orders.selectors import order_list
from tracking.broadcast import (
    board_group,
    publish_batched_on_commit,
    tower_group,
    tower_publish,
    tracking_group,
    tracking_publish,
)
from tracking.eta import etas_update, next_stop
from tracking.exceptions import exception_list_open, exception_payload
from tracking.itinerary import driver_itinerary
from tracking.models import LatestPosition, StopEta
from tracking.positions import BatchResult, position_record_batch

logger = logging.getLogger(__name__)
POSITION_FIELDS = ("lat", "lng", "accuracy_m", "speed_mps", "heading_deg", "battery_pct")
FAILED_STATUSES = frozenset({"failed", "returned", "rescheduled"})
CLOSED_STATUSES = FAILED_STATUSES | {"delivered", "cancelled"}
# KPIs are aggregates over the day: recomputed at most this often per organization on ETA churn.
KPI_MIN_INTERVAL_S = 5
# The tower shows drivers heard from within this long.
DRIVER_RECENT = dt.timedelta(hours=12)
HEADING_TTL_S = 12 * 3600
MAX_SOCKET_BATCH = 500
# Per-process memory on the hot path of positions (see `_heading_previous`, `_kpis_refresh_soon`).
_HEADING: dict[int, int | None] = {}
_KPIS_PUBLISHED: dict[int, float] = {}


def organization_today(organization) -> dt.date:
    return clock.now().astimezone(ZoneInfo(organization.timezone)).date()


# --- Positions --------------------------------------------------------------------------------


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
        publish_batched_on_commit(messages)
    return result


def _position_values(fix) -> dict:
    return {"recorded_at": fix.recorded_at.isoformat(), **{name: getattr(fix, name) for name in POSITION_FIELDS}}


def _position_messages(driver, fix, stop: Stop | None) -> list[tuple[str, dict]]:
    values = _position_values(fix)
    hub_id = stop.order.hub_id if stop is not None and stop.order.hub_id else driver.home_hub_id
    staff = {
        "type": "driver.position",
        "driver_id": driver.pk,
        "driver_name": driver.name,
        "hub_id": hub_id,
        "route_id": stop.route_id if stop else None,
        "next_stop_id": stop.pk if stop else None,
        "next_order_id": stop.order_id if stop else None,
        **values,
    }
    messages = [(tower_group(driver.organization_id), staff), (board_group(hub_id), staff)]
    # A delivered or failed order's customer no longer sees the driver, even before the stop is closed.
    heading_to = stop.order_id if stop is not None and stop.order.status not in CLOSED_STATUSES else None
    previous = _heading_previous(driver.pk, heading_to)
    if previous and previous != heading_to:
        # The driver left this customer's stop behind: their page stops showing the driver.
        messages.append((tracking_group(previous), {"type": "driver.hidden"}))
    # Remembered only once these messages are sent: a rolled-back position must be able to send them again.
    transaction.on_commit(lambda: _heading_remember(driver.pk, heading_to, changed=previous != heading_to))
    if heading_to is not None:
        messages.append((tracking_group(heading_to), {"type": "driver.position", **_customer_driver(driver, values)}))
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


def _customer_driver(driver, values: dict) -> dict:
    """What a customer may see of the driver: a first name and a point, nothing else."""
    return {
        "driver_first_name": driver.first_name,
        "lat": values["lat"],
        "lng": values["lng"],
        "heading_deg": values.get("heading_deg"),
        "recorded_at": values["recorded_at"],
    }


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


# --- KPIs -------------------------------------------------------------------------------------


def _empty_kpis() -> dict:
    return {"delivered": 0, "failed": 0, "pending": 0, "on_time_pct": None, "late_risk": 0, "_on_time": 0}


def kpis_for_day(*, organization, day: dt.date) -> dict:
    """Delivered, failed, pending, on-time % and late-risk count of a day, overall and per hub."""
    orders = order_list(organization=organization).filter(delivery_date=day)
    hubs: dict = defaultdict(_empty_kpis)
    for row in orders.values("hub_id", "status").annotate(n=Count("id")):
        kpis = hubs[row["hub_id"]]
        if row["status"] == "delivered":
            kpis["delivered"] += row["n"]
        elif row["status"] in FAILED_STATUSES:
            kpis["failed"] += row["n"]
        elif row["status"] != "cancelled":
            kpis["pending"] += row["n"]
    delivered = OrderEvent.objects.filter(order__in=orders, kind="order_delivered")
    for hub_id, at, window_end in delivered.values_list("order__hub_id", "at", "order__window_end"):
        hubs[hub_id]["_on_time"] += window_end is None or at <= window_end
    late = StopEta.objects.filter(
        late=True, stop__order__in=orders, stop__status__in=[StopStatus.PLANNED, StopStatus.IN_PROGRESS]
    )
    for row in late.values("stop__order__hub_id").annotate(n=Count("pk")):
        hubs[row["stop__order__hub_id"]]["late_risk"] += row["n"]
    total = _empty_kpis()
    for kpis in hubs.values():
        for name in ("delivered", "failed", "pending", "late_risk", "_on_time"):
            total[name] += kpis[name]
    return {"all": _finish(total), "hubs": {str(hub_id): _finish(kpis) for hub_id, kpis in hubs.items()}}


def _finish(kpis: dict) -> dict:
    on_time = kpis.pop("_on_time")
    kpis["on_time_pct"] = round(100 * on_time / kpis["delivered"], 1) if kpis["delivered"] else None
    return kpis


def kpis_publish(*, organization_id: int) -> None:
    organization = Organization.objects.get(pk=organization_id)
    day = organization_today(organization)
    tower_publish(
        organization_id,
        {"type": "kpis", "date": day.isoformat(), "kpis": kpis_for_day(organization=organization, day=day)},
    )


# --- Order status (domain events) -------------------------------------------------------------


def on_order_status_changed(payload: dict) -> None:
    """Handler for the `order_<status>` domain events: pages and the tower see the new status."""
    order = Order.objects.filter(pk=payload["order_id"]).only("pk", "status", "organization_id", "hub_id").first()
    if order is None:
        return
    tracking_publish(order.pk, {"type": "order.status", "status": order.status})
    if order.status in CLOSED_STATUSES:
        tracking_publish(order.pk, {"type": "driver.hidden"})
    tower_publish(
        order.organization_id,
        {"type": "order.status", "order_id": order.pk, "hub_id": order.hub_id, "status": order.status},
    )
    transaction.on_commit(lambda: kpis_publish(organization_id=order.organization_id))


# --- Snapshots --------------------------------------------------------------------------------


def stop_state(stop: Stop, stop_eta: StopEta | None) -> str:
    """The colour a stop gets on the map: delivered, failed, late, in_progress or planned."""
    status = stop.order.status
    if status == "delivered":
        return "delivered"
    if status in FAILED_STATUSES:
        return "failed"
    if stop.status == StopStatus.DONE:
        return "delivered"
    if stop_eta is not None and stop_eta.late:
        return "late"
    return "in_progress" if stop.status == StopStatus.IN_PROGRESS else "planned"


def tower_routes(*, organization, day: dt.date) -> list[Route]:
    plans = plan_list(organization=organization, date=day).filter(status=PlanStatus.DISPATCHED)
    return list(
        Route.objects.filter(plan__in=plans)
        .select_related("plan", "driver", "vehicle")
        .prefetch_related("stops__order", "stops__eta")
        .order_by("plan__hub_id", "pk")
    )


def route_payload(route: Route) -> dict:
    stops = sorted((s for s in route.stops.all() if s.status != StopStatus.DROPPED), key=lambda s: s.sequence)
    rows = []
    for stop in stops:
        stop_eta = getattr(stop, "eta", None)
        rows.append(
            {
                "id": stop.pk,
                "order_id": stop.order_id,
                "reference": stop.order.merchant_reference,
                "sequence": stop.sequence,
                "lat": stop.order.lat,
                "lng": stop.order.lng,
                "status": stop.status,
                "order_status": stop.order.status,
                "state": stop_state(stop, stop_eta),
                "planned_arrival": stop.planned_arrival.isoformat(),
                "eta": stop_eta.eta.isoformat() if stop_eta else None,
                "late": bool(stop_eta and stop_eta.late),
            }
        )
    done = sum(1 for row in rows if row["state"] in ("delivered", "failed"))
    return {
        "id": route.pk,
        "plan_id": route.plan_id,
        "hub_id": route.plan.hub_id,
        "color": route.color,
        "driver_id": route.driver_id,
        "driver_name": route.driver.name if route.driver else None,
        "vehicle": route.vehicle.name,
        "done": done,
        "total": len(rows),
        "stops": rows,
    }


def tower_snapshot(*, organization, day: dt.date | None = None) -> dict:
    """Everything the control tower draws on connect: hubs, drivers, routes, KPIs, open exceptions."""
    day = day or organization_today(organization)
    routes = [route_payload(route) for route in tower_routes(organization=organization, day=day)]
    route_of_driver = {route["driver_id"]: route for route in routes if route["driver_id"]}
    drivers = []
    latest = LatestPosition.objects.filter(
        organization=organization, recorded_at__gte=clock.now() - DRIVER_RECENT
    ).select_related("driver")
    for position in latest:
        route = route_of_driver.get(position.driver_id)
        drivers.append(
            {
                "type": "driver.position",
                "driver_id": position.driver_id,
                "driver_name": position.driver.name,
                "hub_id": route["hub_id"] if route else position.driver.home_hub_id,
                "route_id": route["id"] if route else None,
                **_position_values(position),
            }
        )
    hubs = [
        {"id": hub.pk, "name": hub.name, "code": hub.code, "lat": hub.lat, "lng": hub.lng, "timezone": hub.timezone}
        for hub in hub_list(organization=organization)
    ]
    return {
        "type": "snapshot",
        "date": day.isoformat(),
        "hubs": hubs,
        "drivers": drivers,
        "routes": routes,
        "kpis": kpis_for_day(organization=organization, day=day),
        "exceptions": [exception_payload(e) for e in exception_list_open(organization=organization)[:200]],
    }


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
        snapshot["driver"] = _customer_driver(driver, _position_values(position))
    return snapshot


# --- Driver socket messages -------------------------------------------------------------------


def driver_for_user(user):
    """The active driver profile of a signed-in driver, else None."""
    from accounts.tenancy import actor_from_request_user

    actor = actor_from_request_user(user)
    if actor is None or actor.role != "driver":
        return None
    driver = getattr(user, "driver_profile", None)
    return driver if driver is not None and driver.active else None


def position_messages_receive(items: list[tuple[object, dict]]) -> list[dict | Exception]:
    """Several driver-socket messages in one transaction: one commit and one disk flush for all.

    Answers each message's ack, in the order given. Drivers are taken in id order, so two batches
    lock the same drivers' rows in the same order and cannot deadlock. If the batch fails (a
    driver deleted meanwhile, a lost connection), nothing of it is kept and every message is
    recorded again in its own transaction: a failing message then fails alone, as its exception.
    """
    order = sorted(range(len(items)), key=lambda i: items[i][0].pk)
    try:
        with transaction.atomic():
            acks = {i: position_message_receive(driver=items[i][0], message=items[i][1]) for i in order}
    except Exception as error:
        logger.warning("A batch of %d positions failed (%r); recording them one by one", len(items), error)
        acks = {i: _message_alone(*items[i]) for i in order}
    return [acks[i] for i in range(len(items))]


def _message_alone(driver, message: dict) -> dict | Exception:
    try:
        with transaction.atomic():
            return position_message_receive(driver=driver, message=message)
    except Exception as error:  # handed to that driver's socket, which fails as it would alone
        return error


def position_message_receive(*, driver, message: dict) -> dict:
    """One driver-socket message (`position` or `positions`) → the ack sent back to the phone."""
    from tracking.api import FixSerializer

    raw = [message] if message.get("type") == "position" else message.get("positions")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_SOCKET_BATCH:
        return {
            "type": "error",
            "code": "invalid_message",
            "message": f"Send a position, or positions as a list of 1 to {MAX_SOCKET_BATCH}.",
        }
    fixes, indexes, malformed = [], [], []
    for index, item in enumerate(raw):
        serializer = FixSerializer(data=item if isinstance(item, dict) else {})
        if serializer.is_valid():
            fixes.append(serializer.validated_data)
            indexes.append(index)
        else:
            malformed.append({"index": index, "reason": "malformed", "errors": serializer.errors})
    result = position_receive(driver=driver, fixes=fixes) if fixes else BatchResult()
    rejected = [{"index": indexes[r["index"]], "reason": r["reason"]} for r in result.rejected]
    return {
        "type": "ack",
        "ref": message.get("ref"),
        "accepted": len(result.accepted),
        "duplicates": result.duplicates,
        "rejected": sorted(malformed + rejected, key=lambda r: r["index"]),
    }
