"""Every write to orders: create (one or many), update, and the one transition service."""

import datetime as dt
import secrets
from collections.abc import Mapping

from django.db import IntegrityError, transaction

from accounts.tenancy import Actor
from common import clock
from common.bulk import insert_new
from common.errors import FieldValidationError
from common.events import (
    ACCESS_CODE_UPDATED,
    ALTERNATIVE_CHOSEN,
    DELIVERY_RATED,
    INSTRUCTIONS_UPDATED,
    ORDER_BATCH_CREATED,
    ORDER_CREATED,
    ORDER_STATUS_EVENTS,
    ORDER_UPDATED,
    publish_many_on_commit,
    publish_on_commit,
)
from dispatch.network.selectors import hub_list
from orders import events
from orders.addresses import resolve_addresses
from orders.errors import (
    CustomerActionRefused,
    DeliveryCodeLocked,
    DeliveryCodeNotResettable,
    DeliveryCodeWrong,
    OrderNotEditable,
    TransitionNotPermitted,
)
from orders.lifecycle import API_KEY, TERMINAL, OrderStatus, may_record
from orders.models import Order, OrderEvent, ProofOfDelivery

DUPLICATE_MESSAGE = "An order with this merchant_reference already exists."
ROW_FIELDS = (
    "merchant_reference",
    "type",
    "service_minutes",
    "priority",
    "required_skills",
    "proof_of_delivery",
    "cash_on_delivery",
    "instructions",
    "access_code",
    "language",
)


def _apply_row(order: Order, row: dict) -> None:
    for field in ROW_FIELDS:
        if field in row:
            setattr(order, field, row[field])
    if "customer" in row:
        order.customer_name = row["customer"]["name"]
        order.customer_phone = row["customer"].get("phone", "")
        order.customer_email = row["customer"].get("email", "")
    if "load" in row:
        order.load_kg = row["load"].get("kg", 0)
        order.load_m3 = row["load"].get("m3", 0)
        order.load_parcels = row["load"].get("parcels", 1)
    if "time_windows" in row:
        _apply_windows(order, row["time_windows"])
    if "address" in row:
        order.address_text = row["address"].get("text", "")
        order.postcode = row["address"].get("postcode", "")
        order.city = row["address"].get("city", "")
        order.country = row["address"].get("country", "")


def _apply_windows(order: Order, windows: list[dict]) -> None:
    ordered = sorted(windows, key=lambda w: w["start"])
    order.time_windows = [{"start": w["start"].isoformat(), "end": w["end"].isoformat()} for w in ordered]
    order.window_start = ordered[0]["start"]
    order.window_end = max(w["end"] for w in ordered)


def _apply_address(order: Order, resolved) -> None:
    order.lat, order.lng = resolved.lat, resolved.lng
    order.geocode_confidence = resolved.confidence
    order.geocode_source = resolved.source
    order.address_issue = resolved.issue
    order.address_issue_detail = resolved.issue_detail
    order.hub = resolved.hub
    tz = resolved.hub.tz if resolved.hub else dt.UTC
    order.delivery_date = order.window_start.astimezone(tz).date() if order.window_start else None


def _initial_events(order: Order, actor: Actor) -> list[OrderEvent]:
    created = events.order_created(order, actor.label)
    created.to_status = OrderStatus.CREATED
    history = [created]
    if order.address_issue:
        history.append(events.address_flagged(order, actor.label))
    else:
        history.append(events.status_changed(order, "system", previous=OrderStatus.CREATED))
    return history


def _build_orders(*, actor: Actor, rows: list[dict], hubs: list | None) -> list[Order]:
    if hubs is None:
        hubs = list(hub_list(organization=actor.organization))
    resolved = resolve_addresses(rows, hubs=hubs)
    orders = []
    for row, address in zip(rows, resolved, strict=True):
        order = Order(organization=actor.organization)
        _apply_row(order, row)
        _apply_address(order, address)
        order.status = OrderStatus.CREATED if order.address_issue else OrderStatus.VALIDATED
        orders.append(order)
    return orders


def _insert(orders: list[Order], actor: Actor) -> None:
    # One statement for the orders and one for their history, whatever the batch's size.
    insert_new(orders)
    insert_new([e for o in orders for e in _initial_events(o, actor)])
    # One insert for the batch's events; the facts subscribers filter on travel with each event, so
    # the worker settles a bulk import's events without a query per order.
    publish_many_on_commit(ORDER_CREATED, [order_event_payload(order) for order in orders])
    # And one event for the whole batch: its reactions read the batch with a few queries.
    publish_on_commit(
        ORDER_BATCH_CREATED,
        {"organization_id": actor.organization.pk, "order_ids": [order.pk for order in orders]},
    )


def order_event_payload(order: Order) -> dict:
    return {
        "order_id": order.pk,
        "organization_id": order.organization_id,
        "priority": order.priority,
        "address_issue": order.address_issue,
    }


def order_create_many(*, actor: Actor, rows: list[dict], hubs: list | None = None) -> list[Order | dict]:
    """Create valid rows; a row whose merchant_reference exists gets an error dict instead.

    Rows are all-or-nothing each: an order is either fully created with its history or absent.
    `hubs` are the organization's hubs, for a caller that has loaded them already.
    """
    existing = set(
        Order.objects.filter(
            organization=actor.organization,
            merchant_reference__in=[row["merchant_reference"] for row in rows],
        ).values_list("merchant_reference", flat=True)
    )
    results: list[Order | dict | None] = [None] * len(rows)
    seen: set[str] = set()
    fresh: list[int] = []
    for index, row in enumerate(rows):
        reference = row["merchant_reference"]
        if reference in existing or reference in seen:
            results[index] = {"merchant_reference": [DUPLICATE_MESSAGE]}
        else:
            seen.add(reference)
            fresh.append(index)
    if fresh:
        created = _create_rows(actor, [rows[index] for index in fresh], hubs)
        for index, result in zip(fresh, created, strict=True):
            results[index] = result
    return results


def _create_rows(actor: Actor, rows: list[dict], hubs: list | None) -> list[Order | dict]:
    orders = _build_orders(actor=actor, rows=rows, hubs=hubs)
    try:
        with transaction.atomic():
            _insert(orders, actor)
        return orders
    except IntegrityError:
        # A concurrent request created one of these references meanwhile: fall back to one
        # savepoint per row so only the clashing rows fail.
        return [_create_one_guarded(order, actor) for order in orders]


def _create_one_guarded(order: Order, actor: Actor) -> Order | dict:
    order.pk = None
    try:
        with transaction.atomic():
            _insert([order], actor)
        return order
    except IntegrityError:
        return {"merchant_reference": [DUPLICATE_MESSAGE]}


def order_create(*, actor: Actor, row: dict) -> Order:
    result = order_create_many(actor=actor, rows=[row])[0]
    if isinstance(result, dict):
        raise FieldValidationError(result)
    return result


ADDRESS_KEYS = ("address", "hub")


def order_update(*, actor: Actor, order: Order, changes: dict) -> Order:
    """Change an order that has not been dispatched yet; address changes are re-validated."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if not order.is_editable():
            raise OrderNotEditable(
                f"An order in status '{order.status}' can no longer be changed; "
                "only created, validated, planned or rescheduled orders can.",
                details={"current_status": order.status},
            )
        _apply_row(order, changes)
        if any(key in changes for key in (*ADDRESS_KEYS, "time_windows")):
            _revalidate_address(order, changes)
        order.full_clean(exclude=["organization", "hub"])
        order.save()
        OrderEvent.objects.bulk_create([events.order_updated(order, actor.label, changed=sorted(changes))])
        publish_on_commit(ORDER_UPDATED, {**order_event_payload(order), "changed": sorted(changes)})
        if order.status == OrderStatus.CREATED and not order.address_issue:
            # The address was all that held it back.
            order = order_transition(actor=None, order=order, to_status=OrderStatus.VALIDATED)
    return order


def _revalidate_address(order: Order, changes: dict) -> None:
    address = changes.get("address") or {}
    if "address" in changes and address.get("lat") is None:
        row_address = {
            "text": order.address_text,
            "postcode": order.postcode,
            "city": order.city,
            "country": order.country,
        }
    else:
        row_address = {"lat": address.get("lat", order.lat), "lng": address.get("lng", order.lng)}
    hub = changes.get("hub", order.hub)
    [resolved] = resolve_addresses(
        [{"address": row_address, "hub": hub}], hubs=list(hub_list(organization=order.organization))
    )
    _apply_address(order, resolved)


def order_transition(
    *,
    actor: Actor | None,
    order: Order,
    to_status: str,
    reason: str = "",
    lat=None,
    lng=None,
    details: dict | None = None,
) -> Order:
    """The only way an order changes status: locked, checked, saved and recorded atomically."""
    if not may_record(actor_kind=_actor_kind(actor), target=to_status):
        raise TransitionNotPermitted(target=to_status)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        previous = order.apply_transition(to_status)
        changed = ["status", "updated_at"]
        if to_status == OrderStatus.DISPATCHED and ProofOfDelivery.ONE_TIME_CODE in order_proofs_required(order):
            # A fresh code for each dispatch (a rescheduled order gets a new one), shown to the customer.
            order.delivery_code = new_delivery_code()
            order.delivery_code_attempts = 0
            changed += ["delivery_code", "delivery_code_attempts"]
        order.save(update_fields=changed)
        label = actor.label if actor else "system"
        event = events.status_changed(order, label, previous=previous, reason=reason, lat=lat, lng=lng, details=details)
        event.save()
        publish_on_commit(
            ORDER_STATUS_EVENTS[to_status],
            {
                "order_id": order.pk,
                "organization_id": order.organization_id,
                "from": previous,
                "reason": reason,
            },
        )
    return order


DELIVERY_CODE_DIGITS = 6
DELIVERY_CODE_MAX_ATTEMPTS = 5


def new_delivery_code() -> str:
    return f"{secrets.randbelow(10**DELIVERY_CODE_DIGITS):0{DELIVERY_CODE_DIGITS}d}"


def order_proofs_required(order: Order) -> list[str]:
    """What the door must yield: the order's own list, else its organization's default."""
    return list(order.proof_of_delivery or order.organization.proof_of_delivery_default or [])


def order_delivery_code_attempts_left(order: Order) -> int:
    return max(0, DELIVERY_CODE_MAX_ATTEMPTS - order.delivery_code_attempts)


def order_delivery_code_check(*, order: Order, code: str) -> Order:
    """Check the customer's one-time code; a wrong one counts, and the fifth wrong one locks it.

    The refusal is raised after the block, so the count stays whenever the caller's own
    transaction commits (`stop_complete` raises it after its block too): guessing stays capped.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.delivery_code_attempts >= DELIVERY_CODE_MAX_ATTEMPTS:
            refusal: Exception | None = DeliveryCodeLocked()
        # Bytes: compare_digest refuses str with non-ASCII characters, and a typed code may have them.
        elif order.delivery_code and secrets.compare_digest(order.delivery_code.encode(), str(code).strip().encode()):
            refusal = None
        else:
            order.delivery_code_attempts += 1
            order.save(update_fields=["delivery_code_attempts", "updated_at"])
            left = order_delivery_code_attempts_left(order)
            refusal = DeliveryCodeWrong(attempts_left=left) if left else DeliveryCodeLocked()
    if refusal is not None:
        raise refusal
    return order


# The customer sees the code on the tracking page only in these statuses (tracking's
# DELIVERY_CODE_STATUSES); a reset elsewhere would hand out a code nobody can be shown.
DELIVERY_CODE_RESET_STATUSES = frozenset({OrderStatus.OUT_FOR_DELIVERY, OrderStatus.ARRIVED})


def order_delivery_code_reset(*, actor: Actor, order: Order) -> Order:
    """A new one-time code with a fresh count of tries: how ops unlock a code guessed wrong too often.

    The customer's tracking page shows the new code; the history records who reset it and how many
    wrong tries it had, never the code.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().select_related("organization").get(pk=order.pk)
        requires_code = ProofOfDelivery.ONE_TIME_CODE in order_proofs_required(order)
        if not requires_code or order.status not in DELIVERY_CODE_RESET_STATUSES:
            raise DeliveryCodeNotResettable(status=order.status, requires_code=requires_code)
        attempts_before = order.delivery_code_attempts
        order.delivery_code = new_delivery_code()
        order.delivery_code_attempts = 0
        order.save(update_fields=["delivery_code", "delivery_code_attempts", "updated_at"])
        events.delivery_code_reset(order, actor.label, attempts_before=attempts_before).save()
    return order


def order_delivery_attempt_record(*, order: Order) -> Order:
    """Count one attempt at the door that did not deliver (the failed-delivery policy caps them)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        order.delivery_attempts += 1
        order.save(update_fields=["delivery_attempts", "updated_at"])
    return order


def _actor_kind(actor: Actor | None) -> str | None:
    """The caller as orders.lifecycle.RECORDED_BY names it; None is the system."""
    if actor is None:
        return None
    if actor.api_key is not None:
        return API_KEY
    if actor.user is not None:
        return actor.user.role
    # Named actors without an account (the customer on the tracking page) record nothing at the door.
    return actor.name or None


def order_transition_backfill(
    *, actor: Actor | None, orders: list[Order], to_status: str, at: Mapping[int, dt.datetime] | None = None
) -> list[Order]:
    """Move many orders at once, for history nothing live depends on (demo history, past imports).

    The bulk path of `order_transition`: rows locked in primary-key order, every move checked
    against the lifecycle (one refused move refuses the batch), one UPDATE and one history row per
    order, dated `at[order.pk]` when given. It publishes no domain events: pages, plans and
    messages have nothing to do for orders that ended in the past. One by one, the demo's eight
    weeks of history (about 50,000 moves) would take over twenty minutes instead of seconds.
    """
    label = actor.label if actor else "system"
    with transaction.atomic():
        locked = list(Order.objects.select_for_update().filter(pk__in=[o.pk for o in orders]).order_by("pk"))
        history = []
        for order in locked:
            previous = order.apply_transition(to_status)
            event = events.status_changed(order, label, previous=previous)
            if at and order.pk in at:
                event.at = at[order.pk]
            history.append(event)
        Order.objects.filter(pk__in=[o.pk for o in locked]).update(status=to_status, updated_at=clock.now())
        OrderEvent.objects.bulk_create(history)
    return locked


def order_failure_decision_record(*, order: Order, summary: str, details: dict) -> OrderEvent:
    """Append the failed-delivery policy's decision to the order's history (the system decides)."""
    event = events.failure_policy_decided(order, "system", summary=summary, details=details)
    event.save()
    return event


def order_cancel(*, actor: Actor, order: Order, reason: str) -> Order:
    return order_transition(actor=actor, order=order, to_status=OrderStatus.CANCELLED, reason=reason)


CUSTOMER = "customer"


def _customer_change(order: Order, fields: dict, event: OrderEvent, name: str) -> Order:
    with transaction.atomic():
        locked = Order.objects.select_for_update().get(pk=order.pk)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*fields, "updated_at"])
        event.order = locked
        event.save()
        publish_on_commit(name, {"order_id": locked.pk, "organization_id": locked.organization_id})
    return locked


def order_instructions_set(*, order: Order, instructions: str) -> Order:
    """The customer's delivery instructions, accepted until the driver has arrived."""
    if order.status in TERMINAL or order.status == OrderStatus.ARRIVED:
        raise CustomerActionRefused("Instructions can no longer be changed for this delivery.")
    event = events.customer_action(order, CUSTOMER, "instructions_updated", details={"instructions": instructions})
    return _customer_change(order, {"instructions": instructions}, event, INSTRUCTIONS_UPDATED)


def order_access_code_set(*, order: Order, access_code: str) -> Order:
    """The customer's door or gate code for the driver, accepted until the driver has arrived."""
    if order.status in TERMINAL or order.status == OrderStatus.ARRIVED:
        raise CustomerActionRefused("The door code can no longer be changed for this delivery.")
    # The history says that the code changed, never the code: it is for the driver's eyes only.
    event = events.customer_action(order, CUSTOMER, "access_code_updated", details={"set": bool(access_code)})
    return _customer_change(order, {"access_code": access_code}, event, ACCESS_CODE_UPDATED)


def order_alternative_choose(*, order: Order, alternative: str, detail: str) -> Order:
    if not order.organization.allow_delivery_alternatives:
        raise CustomerActionRefused("This sender does not offer delivery alternatives.")
    if order.status in TERMINAL or order.status == OrderStatus.ARRIVED:
        raise CustomerActionRefused("It is too late to choose an alternative for this delivery.")
    event = events.customer_action(
        order, CUSTOMER, "alternative_chosen", details={"alternative": alternative, "detail": detail}
    )
    return _customer_change(
        order,
        {"delivery_alternative": alternative, "delivery_alternative_detail": detail},
        event,
        ALTERNATIVE_CHOSEN,
    )


def order_rate(*, order: Order, rating: int, comment: str) -> Order:
    if order.status != OrderStatus.DELIVERED:
        raise CustomerActionRefused("A delivery can be rated once it has been delivered.")
    if order.rating is not None:
        raise CustomerActionRefused("This delivery has already been rated.")
    event = events.customer_action(order, CUSTOMER, "delivery_rated", details={"rating": rating, "comment": comment})
    return _customer_change(order, {"rating": rating, "rating_comment": comment}, event, DELIVERY_RATED)
