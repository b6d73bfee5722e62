"""The stop lifecycle on the road; the order follows its stop in the same transaction.

Every service locks route, then stop, then order (the order of `dispatch.planning.services.locks`;
the route lock serialises a driver's actions on one route), refuses what the lifecycle or the
order's state does not allow before writing anything, and moves the stop through
`stop_transition` and the order through `order_transition`. Each history row carries the phone's
time (`device_at`), the server's, the position and its accuracy, and who moved it (`source`).
"""

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db import transaction

from accounts.tenancy import Actor
from common import clock
from common.errors import FieldValidationError
from dispatch.execution.errors import OrderCancelled, ProofRequired, RouteNotDispatched, StopReassigned
from dispatch.models import (
    STOP_LIFECYCLE,
    ArrivalSource,
    DeliveryProof,
    Driver,
    DriverAction,
    FailureReason,
    PlanStatus,
    ProofKind,
    Route,
    Stop,
    StopEvent,
    StopStatus,
)
from dispatch.planning.services.transitions import stop_transition
from orders.errors import DeliveryCodeLocked, DeliveryCodeWrong
from orders.lifecycle import OrderStatus
from orders.models import Order, ProofOfDelivery
from orders.services import (
    order_delivery_attempt_record,
    order_delivery_code_check,
    order_proofs_required,
    order_transition,
)

RECIPIENT_NAME = "recipient_name"
CASH_COLLECTED = "cash_collected"
# The steps an order takes to follow its stop; a step already taken is skipped.
ORDER_PATHS = {
    OrderStatus.OUT_FOR_DELIVERY: (OrderStatus.OUT_FOR_DELIVERY,),
    OrderStatus.ARRIVED: (OrderStatus.OUT_FOR_DELIVERY, OrderStatus.ARRIVED),
    OrderStatus.DELIVERED: (OrderStatus.OUT_FOR_DELIVERY, OrderStatus.ARRIVED, OrderStatus.DELIVERED),
    OrderStatus.FAILED: (OrderStatus.OUT_FOR_DELIVERY, OrderStatus.FAILED),
}


def fix_details(
    *, at: dt.datetime, lat: float | None, lng: float | None, accuracy_m: float | None, source: str, **extra
) -> dict:
    """What every execution history row carries: the phone's time, the server's, where and how sure."""
    return {
        "device_at": at.isoformat(),
        "server_at": clock.now().isoformat(),
        "lat": lat,
        "lng": lng,
        "accuracy_m": accuracy_m,
        "source": source,
        **extra,
    }


def _lock(stop: Stop, *, driver: Driver | None) -> tuple[Route, Stop, Order]:
    """Route, then stop, then order; refuses a stop off a dispatched plan, reassigned or cancelled."""
    route_id = stop.route_id
    for _ in range(3):
        route = Route.objects.select_for_update(of=("self",)).select_related("plan").get(pk=route_id)
        locked = Stop.objects.select_for_update().get(pk=stop.pk)
        if locked.route_id == route.pk:
            break
        route_id = locked.route_id  # moved to another route meanwhile: lock that one instead
    order = Order.objects.select_for_update(of=("self",)).select_related("organization").get(pk=locked.order_id)
    locked.route, locked.order = route, order
    if order.status == OrderStatus.CANCELLED:
        raise OrderCancelled(
            f"Order {order.merchant_reference} was cancelled; nothing was recorded for it.",
            details={"order_id": order.pk, "stop_id": locked.pk},
        )
    if route.plan.status != PlanStatus.DISPATCHED:
        raise RouteNotDispatched("This stop's route has not been dispatched.", details={"route_id": route.pk})
    if driver is not None and (route.driver_id != driver.pk or locked.status == StopStatus.DROPPED):
        raise StopReassigned(
            f"The stop for order {order.merchant_reference} was moved off your route; nothing was recorded.",
            details={"order_id": order.pk, "stop_id": locked.pk},
        )
    return route, locked, order


def _order_follow(*, actor: Actor | None, order: Order, target: str, reason: str, details: dict) -> Order:
    """Move the order to `target` through the steps it has not taken yet (an arrival nobody tapped)."""
    path = ORDER_PATHS[target]
    while order.status != target:
        step = target if order.can_transition(target) else next((s for s in path if order.can_transition(s)), target)
        order = order_transition(
            actor=actor,
            order=order,
            to_status=step,
            reason=reason,
            lat=details["lat"],
            lng=details["lng"],
            details=details,
        )
    return order


def _seconds_between(start: dt.datetime | None, end: dt.datetime) -> int | None:
    if start is None:
        return None
    return max(0, round((end - start).total_seconds()))


def _departure_record(stop: Stop, *, actor: Actor | None, at: dt.datetime, details: dict) -> Stop:
    """When the driver left a stop: its measured service time (arrival to departure)."""
    stop.departed_at = at
    stop.service_seconds = _seconds_between(stop.arrived_at, at)
    stop.save(update_fields=["departed_at", "service_seconds", "updated_at"])
    StopEvent(
        stop=stop,
        kind="stop_departed",
        actor=actor.label if actor else "system",
        from_status=stop.status,
        to_status=stop.status,
        details={**details, "service_seconds": stop.service_seconds},
    ).save()
    return stop


def _last_served(route: Route, *, before: Stop) -> Stop | None:
    """The stop the driver is leaving: the latest arrival on the route with no departure yet."""
    return (
        Stop.objects.select_for_update()
        .filter(route=route, arrived_at__isnull=False, departed_at__isnull=True)
        .exclude(pk=before.pk)
        .order_by("-arrived_at", "-pk")
        .first()
    )


def stop_depart(
    *,
    actor: Actor | None,
    stop: Stop,
    at: dt.datetime,
    lat: float | None = None,
    lng: float | None = None,
    accuracy_m: float | None = None,
    source: str = ArrivalSource.DRIVER,
    driver: Driver | None = None,
) -> Stop:
    """Heading to `stop`: it goes en route, and another stop the driver was heading to goes back."""
    with transaction.atomic():
        route, stop, order = _lock(stop, driver=driver)
        if stop.status == StopStatus.EN_ROUTE:
            return stop
        STOP_LIFECYCLE.check(stop.status, StopStatus.EN_ROUTE)
        details = fix_details(at=at, lat=lat, lng=lng, accuracy_m=accuracy_m, source=source, stop_id=stop.pk)
        if (previous := _last_served(route, before=stop)) is not None:
            _departure_record(previous, actor=actor, at=at, details=details)
        others = Stop.objects.filter(route=route, status=StopStatus.EN_ROUTE).exclude(pk=stop.pk).order_by("pk")
        for other in others:
            stop_transition(
                actor=actor,
                stop=other,
                to_status=StopStatus.PLANNED,
                reason=f"heading to stop {stop.pk}",
                details=details,
            )
        stop = stop_transition(
            actor=actor, stop=stop, to_status=StopStatus.EN_ROUTE, details=details, fields={"en_route_at": at}
        )
        if order.status == OrderStatus.DISPATCHED:
            order = _order_follow(
                actor=actor, order=order, target=OrderStatus.OUT_FOR_DELIVERY, reason="on the way", details=details
            )
        stop.order = order
    return stop


def stop_arrive(
    *,
    actor: Actor | None,
    stop: Stop,
    at: dt.datetime,
    lat: float | None = None,
    lng: float | None = None,
    accuracy_m: float | None = None,
    source: str = ArrivalSource.DRIVER,
    driver: Driver | None = None,
) -> Stop:
    """At the door; an arrival already recorded (the geofence, then the tap) changes nothing."""
    with transaction.atomic():
        route, stop, order = _lock(stop, driver=driver)
        if stop.status == StopStatus.ARRIVED:
            return stop
        STOP_LIFECYCLE.check(stop.status, StopStatus.ARRIVED)
        details = fix_details(at=at, lat=lat, lng=lng, accuracy_m=accuracy_m, source=source, stop_id=stop.pk)
        stop = stop_transition(
            actor=actor,
            stop=stop,
            to_status=StopStatus.ARRIVED,
            details=details,
            fields={"arrived_at": at, "arrival_source": source},
        )
        stop.order = _order_follow(actor=actor, order=order, target=OrderStatus.ARRIVED, reason="", details=details)
    return stop


def stop_departed(
    *,
    stop: Stop,
    at: dt.datetime,
    lat: float | None = None,
    lng: float | None = None,
    accuracy_m: float | None = None,
    actor: Actor | None = None,
    source: str = ArrivalSource.GEOFENCE,
) -> Stop:
    """The driver left the stop (the geofence saw it): departure and service time, once."""
    with transaction.atomic():
        route, stop, order = _lock(stop, driver=None)
        if stop.departed_at is not None or stop.arrived_at is None:
            return stop
        details = fix_details(at=at, lat=lat, lng=lng, accuracy_m=accuracy_m, source=source, stop_id=stop.pk)
        return _departure_record(stop, actor=actor, at=at, details=details)


def _named_proofs(stop: Stop, route: Route, client_ids: Sequence[str]) -> dict[str, DeliveryProof]:
    """Proofs this stop's driver uploaded for this stop, by the phone's ids."""
    if not client_ids:
        return {}
    proofs = DeliveryProof.objects.filter(stop=stop, driver_id=route.driver_id, client_id__in=list(client_ids))
    return {proof.client_id: proof for proof in proofs}


def _missing_proofs(
    *,
    order: Order,
    required: list[str],
    signature: DeliveryProof | None,
    signature_named: bool,
    photos: list[DeliveryProof],
    photos_named: list[str],
    code: str,
    recipient_name: str,
    cash_collected: Decimal | None,
) -> tuple[list[str], dict[str, str]]:
    missing: list[str] = []
    reasons: dict[str, str] = {}
    if ProofOfDelivery.SIGNATURE in required and signature is None:
        missing.append(ProofOfDelivery.SIGNATURE)
        if signature_named:
            reasons[ProofOfDelivery.SIGNATURE] = "not uploaded yet"
    if ProofOfDelivery.PHOTO in required and (not photos_named or len(photos) < len(photos_named)):
        missing.append(ProofOfDelivery.PHOTO)
        if photos_named:
            reasons[ProofOfDelivery.PHOTO] = "not uploaded yet"
    if ProofOfDelivery.ONE_TIME_CODE in required and not code.strip():
        missing.append(ProofOfDelivery.ONE_TIME_CODE)
    if RECIPIENT_NAME in required and not recipient_name.strip():
        missing.append(RECIPIENT_NAME)
    if order.cash_on_delivery and cash_collected is None:
        missing.append(CASH_COLLECTED)
        reasons[CASH_COLLECTED] = f"{order.cash_on_delivery} to collect"
    return missing, reasons


def stop_complete(
    *,
    actor: Actor | None,
    stop: Stop,
    at: dt.datetime,
    lat: float | None = None,
    lng: float | None = None,
    accuracy_m: float | None = None,
    source: str = ArrivalSource.DRIVER,
    driver: Driver | None = None,
    signature: str | None = None,
    photos: Sequence[str] = (),
    code: str = "",
    recipient_name: str = "",
    cash_collected: Decimal | None = None,
    items: Sequence[dict] = (),
    damage_note: str = "",
    action: DriverAction | None = None,
) -> Stop:
    """Delivered (or collected): refused with `proof_required` naming what the order asks for and lacks.

    A wrong one-time code is counted even though the completion is refused (the refusal is raised
    after the block, so the count commits): the customer's code cannot be guessed by retrying.
    """
    refusal: DeliveryCodeWrong | DeliveryCodeLocked | None = None
    with transaction.atomic():
        route, stop, order = _lock(stop, driver=driver)
        STOP_LIFECYCLE.check(stop.status, StopStatus.DONE)
        required = order_proofs_required(order)
        named = _named_proofs(stop, route, [*([signature] if signature else []), *photos])
        signature_proof = named.get(signature) if signature else None
        if signature_proof is not None and signature_proof.kind != ProofKind.SIGNATURE:
            signature_proof = None
        photo_proofs = [named[p] for p in photos if p in named and named[p].kind == ProofKind.PHOTO]
        missing, reasons = _missing_proofs(
            order=order,
            required=required,
            signature=signature_proof,
            signature_named=bool(signature),
            photos=photo_proofs,
            photos_named=list(photos),
            code=code,
            recipient_name=recipient_name,
            cash_collected=cash_collected,
        )
        if missing:
            raise ProofRequired(missing, reasons=reasons)
        code_verified = False
        if ProofOfDelivery.ONE_TIME_CODE in required:
            try:
                order = order_delivery_code_check(order=order, code=code)
                code_verified = True
            except (DeliveryCodeWrong, DeliveryCodeLocked) as wrong:
                refusal = wrong
        if refusal is None:
            stop = _complete(
                actor=actor,
                route=route,
                stop=stop,
                order=order,
                at=at,
                details=fix_details(
                    at=at,
                    lat=lat,
                    lng=lng,
                    accuracy_m=accuracy_m,
                    source=source,
                    stop_id=stop.pk,
                    signature=signature_proof.pk if signature_proof else None,
                    photos=[p.pk for p in photo_proofs],
                    recipient_name=recipient_name,
                    cash_collected=None if cash_collected is None else str(cash_collected),
                    code_verified=code_verified,
                ),
                fields={
                    "recipient_name": recipient_name,
                    "cash_collected": cash_collected,
                    "code_verified": code_verified,
                    "collected_items": [dict(item) for item in items],
                    "damage_note": damage_note,
                },
            )
            if action is not None:
                proof_ids = [p.pk for p in (signature_proof, *photo_proofs) if p is not None]
                DeliveryProof.objects.filter(pk__in=proof_ids).update(action=action)
    if refusal is not None:
        raise refusal
    return stop


def _complete(*, actor, route, stop, order, at, details, fields) -> Stop:
    stop = stop_transition(
        actor=actor,
        stop=stop,
        to_status=StopStatus.DONE,
        details=details,
        fields={"completed_at": at, "service_seconds": _seconds_between(stop.arrived_at, at), **fields},
    )
    stop.order = _order_follow(actor=actor, order=order, target=OrderStatus.DELIVERED, reason="", details=details)
    return stop


def _reason_check(reason: str, note: str) -> None:
    if reason not in FailureReason.values:
        raise FieldValidationError({"reason": [f"Unknown reason; one of {', '.join(FailureReason.values)}."]})
    if reason == FailureReason.OTHER and not note.strip():
        raise FieldValidationError({"note": ["Say what happened when the reason is 'other'."]})


def stop_fail(
    *,
    actor: Actor | None,
    stop: Stop,
    at: dt.datetime,
    reason: str,
    note: str = "",
    photos: Sequence[str] = (),
    lat: float | None = None,
    lng: float | None = None,
    accuracy_m: float | None = None,
    source: str = ArrivalSource.DRIVER,
    driver: Driver | None = None,
    action: DriverAction | None = None,
) -> Stop:
    """Attempted and not delivered: the stop and its order fail, and the attempt counts."""
    _reason_check(reason, note)
    with transaction.atomic():
        route, stop, order = _lock(stop, driver=driver)
        STOP_LIFECYCLE.check(stop.status, StopStatus.FAILED)
        named = _named_proofs(stop, route, photos)
        photo_proofs = [named[p] for p in photos if p in named and named[p].kind == ProofKind.PHOTO]
        if len(photo_proofs) < len(photos):
            raise ProofRequired([ProofOfDelivery.PHOTO], reasons={ProofOfDelivery.PHOTO: "not uploaded yet"})
        details = fix_details(
            at=at,
            lat=lat,
            lng=lng,
            accuracy_m=accuracy_m,
            source=source,
            stop_id=stop.pk,
            failure_reason=reason,
            note=note,
            photos=[p.pk for p in photo_proofs],
        )
        stop = stop_transition(
            actor=actor,
            stop=stop,
            to_status=StopStatus.FAILED,
            reason=reason,
            details=details,
            fields={
                "failure_reason": reason,
                "failure_note": note,
                "completed_at": at,
                "service_seconds": _seconds_between(stop.arrived_at, at),
            },
        )
        order = _order_follow(actor=actor, order=order, target=OrderStatus.FAILED, reason=reason, details=details)
        stop.order = order_delivery_attempt_record(order=order)
        if action is not None and photo_proofs:
            DeliveryProof.objects.filter(pk__in=[p.pk for p in photo_proofs]).update(action=action)
    return stop


def stop_skip(
    *,
    actor: Actor | None,
    stop: Stop,
    at: dt.datetime,
    reason: str,
    note: str = "",
    lat: float | None = None,
    lng: float | None = None,
    accuracy_m: float | None = None,
    source: str = ArrivalSource.DRIVER,
    driver: Driver | None = None,
) -> Stop:
    """Not attempted (out of time, no access): the order fails with the reason, no attempt counted."""
    _reason_check(reason, note)
    with transaction.atomic():
        route, stop, order = _lock(stop, driver=driver)
        STOP_LIFECYCLE.check(stop.status, StopStatus.SKIPPED)
        details = fix_details(
            at=at, lat=lat, lng=lng, accuracy_m=accuracy_m, source=source, stop_id=stop.pk, failure_reason=reason
        )
        stop = stop_transition(
            actor=actor,
            stop=stop,
            to_status=StopStatus.SKIPPED,
            reason=reason,
            details={**details, "note": note},
            fields={"failure_reason": reason, "failure_note": note},
        )
        stop.order = _order_follow(
            actor=actor, order=order, target=OrderStatus.FAILED, reason=f"skipped: {reason}", details=details
        )
    return stop


def _route_lock(route: Route) -> Route:
    route = Route.objects.select_for_update(of=("self",)).select_related("plan").get(pk=route.pk)
    if route.plan.status != PlanStatus.DISPATCHED:
        raise RouteNotDispatched("This route has not been dispatched.", details={"route_id": route.pk})
    return route


def shift_start(
    *,
    actor: Actor | None,
    route: Route,
    at: dt.datetime,
    lat: float | None = None,
    lng: float | None = None,
    accuracy_m: float | None = None,
    source: str = ArrivalSource.DRIVER,
    vehicle_ok: bool = True,
    vehicle_notes: str = "",
    parcels_loaded: int | None = None,
) -> Route:
    """On the road: the vehicle and load checks are kept, and every dispatched order goes out for delivery."""
    with transaction.atomic():
        route = _route_lock(route)
        if route.shift_started_at is not None:
            return route
        details = fix_details(at=at, lat=lat, lng=lng, accuracy_m=accuracy_m, source=source, route_id=route.pk)
        route.shift_started_at = at
        route.vehicle_check = {"ok": vehicle_ok, "notes": vehicle_notes, "checked_at": at.isoformat()}
        route.load_check = {"parcels_loaded": parcels_loaded, "parcels_planned": route.load_parcels}
        route.save(update_fields=["shift_started_at", "vehicle_check", "load_check", "updated_at"])
        stops = Stop.objects.select_for_update().filter(route=route).exclude(status=StopStatus.DROPPED).order_by("pk")
        for stop in stops.select_related("order"):
            if stop.order.status == OrderStatus.DISPATCHED:
                _order_follow(
                    actor=actor,
                    order=stop.order,
                    target=OrderStatus.OUT_FOR_DELIVERY,
                    reason="shift started",
                    details=details,
                )
    return route


def shift_end(
    *,
    actor: Actor | None,
    route: Route,
    at: dt.datetime,
    lat: float | None = None,
    lng: float | None = None,
    accuracy_m: float | None = None,
    source: str = ArrivalSource.DRIVER,
) -> Route:
    """Off the road; stops still open stay open (the answer lists them, ops decide)."""
    with transaction.atomic():
        route = _route_lock(route)
        if route.shift_ended_at is None:
            route.shift_ended_at = at
            route.save(update_fields=["shift_ended_at", "updated_at"])
    return route
