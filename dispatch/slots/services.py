"""Writes for delivery slots: templates, holds (with expiry), confirmation and rescheduling.

Concurrency: every booking decision for a slot instance locks its `SlotCounter` row first
(created on demand), then re-reads what is taken and decides. Two checkouts racing for the last
place are serialized on that row and the second sees the first one's hold. Expired holds stop
counting at `expires_at` (every read filters on it); `slot_holds_expire` (the periodic sweep)
records them as expired afterwards.
Lock order: slot counter, then hold, then order.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction

from accounts.tenancy import Actor
from common import clock
from common.errors import ConflictError, FieldValidationError
from common.events import ORDER_SLOT_BOOKED, publish_on_commit
from dispatch.models import HoldStatus, Hub, SlotCounter, SlotHold, SlotTemplate
from dispatch.slots.capacity import hub_profile
from dispatch.slots.selectors import OutsideServiceArea, slot_offers
from dispatch.slots.transitions import slot_hold_created, slot_hold_transition
from orders.lifecycle import OrderStatus
from orders.models import Order
from orders.services import order_transition, order_update

DEFAULT_HOLD_MINUTES = 10
UNAVAILABLE_MESSAGES = {
    "cutoff_passed": "The cut-off time for this slot has passed.",
    "same_day_not_offered": "This slot cannot be booked on the same day.",
    "no_capacity": "No driver works during this slot.",
    "slot_full": "This slot is full.",
    "no_route_fits": "No route can reach this address inside the slot's window.",
    "not_offered": "This slot is not offered on that day.",
}


class SlotUnavailable(ConflictError):
    code = "slot_unavailable"

    def __init__(self, reason: str):
        super().__init__(UNAVAILABLE_MESSAGES[reason], code=reason, details={"reason": reason})


class HoldNotActive(ConflictError):
    code = "hold_not_active"


def hold_minutes() -> int:
    return int(getattr(settings, "WAYPOINT_SLOT_HOLD_MINUTES", DEFAULT_HOLD_MINUTES))


def slot_template_save(*, organization, instance: SlotTemplate, data: dict) -> SlotTemplate:
    for name, value in data.items():
        setattr(instance, name, value)
    instance.organization = organization
    with transaction.atomic():
        instance.full_clean()
        instance.save()
    return instance


def slot_resolve(*, hub: Hub, start: dt.datetime, end: dt.datetime) -> tuple[SlotTemplate, dt.date]:
    """The active template of `hub` whose window on that day is exactly [start, end]."""
    local_start, local_end = start.astimezone(hub.tz), end.astimezone(hub.tz)
    day = local_start.date()
    for template in SlotTemplate.objects.filter(hub=hub, active=True).select_related("hub"):
        if template.runs_on(day) and template.window(day) == (local_start, local_end):
            return template, day
    raise FieldValidationError(
        {"start": [f"No slot of hub '{hub.code}' runs from {local_start:%Y-%m-%d %H:%M} to {local_end:%H:%M}."]}
    )


def _lock_counter(template: SlotTemplate, day: dt.date) -> SlotCounter:
    """Lock the slot instance's counter row, creating it first if needed (call inside atomic)."""
    defaults = {"organization_id": template.organization_id, "hub_id": template.hub_id}
    try:
        with transaction.atomic():
            SlotCounter.objects.get_or_create(template=template, date=day, defaults=defaults)
    except IntegrityError:
        pass  # created concurrently by another checkout: it exists now
    return SlotCounter.objects.select_for_update().get(template=template, date=day)


def _check_offer(*, template, day, lat, lng, load, now, exclude_order_id=None) -> None:
    if not template.runs_on(day):
        raise SlotUnavailable("not_offered")
    [offer] = slot_offers(
        hub=template.hub,
        day=day,
        lat=lat,
        lng=lng,
        load=load,
        now=now,
        profile=hub_profile(hub=template.hub),
        templates=[template],
        exclude_order_id=exclude_order_id,
    )
    if offer.reason:
        raise SlotUnavailable(offer.reason)


def slot_hold(
    *,
    actor: Actor,
    template: SlotTemplate,
    day: dt.date,
    lat: float,
    lng: float,
    load: dict,
    service_minutes: float | None = None,
    minutes: int | None = None,
) -> SlotHold:
    """Keep one place of a slot for a checkout until it expires (default 10 minutes)."""
    hub = template.hub
    if not hub.covers(lat, lng):
        raise OutsideServiceArea(
            f"The address ({lat:.5f}, {lng:.5f}) is outside the service area of hub '{hub.code}'.",
            details={"lat": lat, "lng": lng, "hub": hub.code},
        )
    with transaction.atomic():
        counter = _lock_counter(template, day)
        now = clock.now()
        _check_offer(template=template, day=day, lat=lat, lng=lng, load=load, now=now)
        start, end = template.window(day)
        hold = SlotHold.objects.create(
            organization=actor.organization,
            hub=hub,
            template=template,
            date=day,
            start=start,
            end=end,
            lat=lat,
            lng=lng,
            load_kg=load.get("kg", 0),
            load_m3=load.get("m3", 0),
            load_parcels=load.get("parcels", 1),
            service_minutes=service_minutes if service_minutes is not None else hub_profile(hub=hub).service_s / 60,
            expires_at=now + dt.timedelta(minutes=minutes or hold_minutes()),
            created_by=actor.label,
        )
        slot_hold_created(hold, actor.label).save()
        counter.bookings += 1
        counter.save(update_fields=["bookings"])
    return hold


def _locked_active_hold(hold: SlotHold, now: dt.datetime) -> SlotHold:
    hold = SlotHold.objects.select_for_update().select_related("template", "hub").get(pk=hold.pk)
    if not hold.is_active(at=now):
        # A hold past its expiry is expired even before the sweep records it.
        status = HoldStatus.EXPIRED if hold.status == HoldStatus.ACTIVE else hold.status
        code = "hold_expired" if status == HoldStatus.EXPIRED else "hold_not_active"
        raise HoldNotActive(f"Hold {hold.pk} is {status}; hold the slot again.", code=code, details={"status": status})
    return hold


def _move_order(*, actor: Actor, order: Order, hub: Hub, start: dt.datetime, end: dt.datetime) -> Order:
    """Set the order's window (and hub); a failed order first becomes rescheduled."""
    if order.status == OrderStatus.FAILED:
        order = order_transition(
            actor=actor,
            order=order,
            to_status=OrderStatus.RESCHEDULED,
            reason=f"Rescheduled to {start:%Y-%m-%d %H:%M}-{end:%H:%M}",
        )
    # Stored as the customer reads it: in the hub's zone.
    changes: dict = {"time_windows": [{"start": start.astimezone(hub.tz), "end": end.astimezone(hub.tz)}]}
    if order.hub_id != hub.pk:
        changes["hub"] = hub
    order = order_update(actor=actor, order=order, changes=changes)
    publish_on_commit(ORDER_SLOT_BOOKED, {"order_id": order.pk, "organization_id": order.organization_id})
    return order


def slot_hold_confirm(*, actor: Actor, hold: SlotHold, order: Order) -> SlotHold:
    """Turn an active hold into the order's delivery window (the order must be editable or failed)."""
    if order.organization_id != hold.organization_id:
        raise FieldValidationError({"order_id": ["Unknown order."]})
    with transaction.atomic():
        _lock_counter(hold.template, hold.date)
        now = clock.now()
        hold = _locked_active_hold(hold, now)
        order = _move_order(actor=actor, order=order, hub=hold.hub, start=hold.start, end=hold.end)
        return slot_hold_transition(
            actor=actor,
            hold=hold,
            to_status=HoldStatus.CONFIRMED,
            reason=f"Confirmed onto order {order.merchant_reference}.",
            fields={"order": order, "confirmed_at": now},
        )


def slot_hold_release(*, actor: Actor, hold: SlotHold) -> SlotHold:
    """Give the place back before the hold expires (checkout abandoned)."""
    with transaction.atomic():
        _lock_counter(hold.template, hold.date)
        hold = _locked_active_hold(hold, clock.now())
        return slot_hold_transition(actor=actor, hold=hold, to_status=HoldStatus.RELEASED, reason="Released.")


def slot_holds_expire(*, now: dt.datetime | None = None) -> int:
    """Record active holds past their expiry as expired (they already stopped counting); the sweep."""
    now = now or clock.now()
    due = SlotHold.objects.filter(status=HoldStatus.ACTIVE, expires_at__lte=now).order_by("pk")
    expired = 0
    for hold_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            hold = SlotHold.objects.select_for_update().get(pk=hold_id)
            if hold.status == HoldStatus.ACTIVE:  # a checkout may have confirmed it meanwhile
                slot_hold_transition(actor=None, hold=hold, to_status=HoldStatus.EXPIRED, reason="Expired.")
                expired += 1
    return expired


def order_reschedule(
    *,
    actor: Actor,
    order: Order,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    hold: SlotHold | None = None,
) -> Order:
    """Move an order to another slot, checked like a checkout; a failed order becomes rescheduled."""
    if hold is not None:
        return slot_hold_confirm(actor=actor, hold=hold, order=order).order
    if order.hub is None or order.lat is None or order.lng is None:
        raise ConflictError(
            "This order has no hub or no coordinates; fix its address before rescheduling.",
            code="order_not_routable",
        )
    template, day = slot_resolve(hub=order.hub, start=start, end=end)
    load = {"kg": order.load_kg, "m3": order.load_m3, "parcels": order.load_parcels}
    with transaction.atomic():
        _lock_counter(template, day)
        _check_offer(
            template=template,
            day=day,
            lat=order.lat,
            lng=order.lng,
            load=load,
            now=clock.now(),
            exclude_order_id=order.pk,
        )
        slot_start, slot_end = template.window(day)
        return _move_order(actor=actor, order=order, hub=order.hub, start=slot_start, end=slot_end)
