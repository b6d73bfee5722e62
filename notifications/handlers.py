"""Domain events to customer messages: each subscriber loads what the message says and queues it.

Subscribers run inside the outbox delivery (common/outbox.py), so the Message rows they write
commit with the delivery receipt: a redelivered event finds its receipt, or the message's dedupe
key, and queues nothing twice. Registered in notifications/apps.py.
"""

from django.db.models import QuerySet

from dispatch.execution.decisions import failure_awaits_customer_slot
from dispatch.models import DeliveryProof, Stop, StopStatus
from notifications.models import MessageKind
from notifications.rules import notification_settings_get
from notifications.services.context import order_context
from notifications.services.messages import Notice, message_queue, messages_queue
from notifications.services.rendering import customer_language, customer_reason
from orders.lifecycle import OrderStatus
from orders.models import Order, ProofOfDelivery
from orders.services import order_proofs_required
from tracking.models import DeliveryException, StopEta
from tracking.selectors.tower import organization_today

LATE_RISK = "late_risk"


def _order(order_id: int) -> Order | None:
    return Order.objects.select_related("organization").filter(pk=order_id).first()


def _attempt_cause(order: Order) -> str:
    # An order may go out, fail or be rescheduled once per attempt: one message each time.
    return f"order:{order.pk}:attempt:{order.delivery_attempts}"


def _confirmation_cause(order: Order) -> str:
    # One confirmation per order and window, whichever event tells it first: a creation and a
    # booking in the same window (a checkout's held slot), or an address fixed by the booking that
    # set the window, make one message. Planning and re-planning say nothing.
    return f"order:{order.pk}:window:{order.window_start.isoformat()}"


def _confirmable(orders: QuerySet[Order]) -> QuerySet[Order]:
    """Orders a customer can be told are confirmed: with a window to tell, an address Waypoint
    found (an order flagged at intake is confirmed once its address is fixed), not cancelled
    (a confirmation held up in the outbox would contradict the cancellation) and with a contact."""
    return (
        orders.filter(window_start__isnull=False, address_issue="")
        .exclude(status=OrderStatus.CANCELLED)
        .exclude(customer_email="", customer_phone="")
        .select_related("organization")
    )


def on_order_batch_created(payload: dict) -> None:
    """Every order created with a window (or in a slot) is confirmed as it is accepted: the whole
    batch with a fixed number of queries, however many orders a bulk import brought."""
    orders = list(
        _confirmable(Order.objects.filter(organization_id=payload["organization_id"], pk__in=payload["order_ids"]))
    )
    if not orders:
        return
    notices = [Notice(order, _confirmation_cause(order), order_context(order)) for order in orders]
    messages_queue(organization=orders[0].organization, kind=MessageKind.ORDER_CONFIRMED, notices=notices)


def is_address_fixed(payload: dict) -> bool:
    # Validated straight from created: the address that held the order back was fixed. Validated
    # from planned is re-planning, which says nothing.
    return payload.get("from") == OrderStatus.CREATED


def on_order_address_fixed(payload: dict) -> None:
    order = _confirmable(Order.objects.filter(pk=payload["order_id"])).first()
    if order is None:
        return
    context = order_context(order)
    message_queue(order=order, kind=MessageKind.ORDER_CONFIRMED, cause=_confirmation_cause(order), context=context)


def on_order_slot_booked(payload: dict) -> None:
    """A new slot is told once: as "rescheduled" after a failed attempt (the same message as the
    order_rescheduled event's, so the two never both go), else as a new confirmation."""
    order = _confirmable(Order.objects.filter(pk=payload["order_id"])).first()
    if order is None:
        return
    context = order_context(order)
    if order.status == OrderStatus.RESCHEDULED:
        message_queue(order=order, kind=MessageKind.RESCHEDULED, cause=_rescheduled_cause(order), context=context)
        return
    message_queue(order=order, kind=MessageKind.ORDER_CONFIRMED, cause=_confirmation_cause(order), context=context)


def on_order_dispatched(payload: dict) -> None:
    """A route released for today already puts the order on its way; a plan for another day waits
    for the driver to set out (out_for_delivery)."""
    if (order := _order(payload["order_id"])) is None:
        return
    if order.delivery_date != organization_today(order.organization):
        return
    _out_for_delivery(order)


def on_order_out_for_delivery(payload: dict) -> None:
    if (order := _order(payload["order_id"])) is None:
        return
    _out_for_delivery(order)


def _out_for_delivery(order: Order) -> None:
    """One message per attempt and code, whichever of dispatch and setting out comes first: a
    re-dispatch that made a new one-time code tells the new code."""
    context = order_context(order)
    cause = _attempt_cause(order)
    if ProofOfDelivery.ONE_TIME_CODE in order_proofs_required(order) and order.delivery_code:
        context["delivery_code"] = order.delivery_code
        cause = f"{cause}:code:{order.delivery_code}"
    message_queue(order=order, kind=MessageKind.OUT_FOR_DELIVERY, cause=cause, context=context)


def on_order_delivered(payload: dict) -> None:
    if (order := _order(payload["order_id"])) is None:
        return
    context = order_context(order)
    stop = Stop.objects.filter(order=order, status=StopStatus.DONE).order_by("-completed_at", "-pk").first()
    if stop is not None:
        kinds = set(DeliveryProof.objects.filter(stop=stop).values_list("kind", flat=True))
        context.update(
            delivered_at=stop.completed_at,
            recipient_name=stop.recipient_name,
            proof_signature="signature" in kinds,
            proof_photo="photo" in kinds,
            proof_code=stop.code_verified,
        )
    message_queue(order=order, kind=MessageKind.DELIVERED, cause=f"order:{order.pk}", context=context)


def on_order_failed(payload: dict) -> None:
    if (order := _order(payload["order_id"])) is None:
        return
    settings = notification_settings_get(organization=order.organization)
    language = customer_language(
        kind=MessageKind.FAILED, order_language=order.language, organization_language=settings.language
    )
    context = order_context(order)
    # The tracking page offers the next slots when asked (`?reschedule=1`) for a failed order.
    context["reschedule_url"] = f"{context['tracking_url']}?reschedule=1"
    context["reason"] = customer_reason(payload.get("reason", ""), language)
    message_queue(order=order, kind=MessageKind.FAILED, cause=_attempt_cause(order), context=context)


def _rescheduled_cause(order: Order) -> str:
    # Per attempt and new window: a customer who picks another slot hears of it again, while the
    # order_rescheduled and order_slot_booked events of one reschedule make one message.
    window = order.window_start.isoformat() if order.window_start else ""
    return f"{_attempt_cause(order)}:window:{window}"


def on_order_rescheduled(payload: dict) -> None:
    if (order := _order(payload["order_id"])) is None:
        return
    if failure_awaits_customer_slot(organization=order.organization, order=order):
        return  # no new time to tell: the "failed" message asked the customer to pick one
    context = order_context(order)
    message_queue(order=order, kind=MessageKind.RESCHEDULED, cause=_rescheduled_cause(order), context=context)


def on_order_cancelled(payload: dict) -> None:
    if (order := _order(payload["order_id"])) is None:
        return
    message_queue(order=order, kind=MessageKind.CANCELLED, cause=f"order:{order.pk}", context=order_context(order))


def is_late_risk(payload: dict) -> bool:
    return payload.get("kind") == LATE_RISK


def on_late_risk(payload: dict) -> None:
    """One "delayed" per slip: tracking raises one late-risk exception per stop until it is resolved,
    however many positions confirm the lateness, and the exception id is the message's cause."""
    exception = DeliveryException.objects.filter(pk=payload["exception_id"]).select_related("order").first()
    if exception is None or exception.order_id is None:
        return
    order = _order(exception.order_id)
    context = order_context(order)
    estimate = (
        StopEta.objects.filter(stop__order=order, stop__status__in=(StopStatus.PLANNED, StopStatus.EN_ROUTE))
        .order_by("-computed_at")
        .first()
    )
    if estimate is not None:
        context.update(eta=estimate.eta, eta_window_start=estimate.window_start, eta_window_end=estimate.window_end)
    message_queue(order=order, kind=MessageKind.DELAYED, cause=f"exception:{exception.pk}", context=context)
