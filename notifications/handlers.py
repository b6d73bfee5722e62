"""Domain events to customer messages: each subscriber loads what the message says and queues it.

Subscribers run inside the outbox delivery (common/outbox.py), so the Message rows they write
commit with the delivery receipt: a redelivered event finds its receipt, or the message's dedupe
key, and queues nothing twice. Registered in notifications/apps.py.
"""

from dispatch.execution.decisions import failure_awaits_customer_slot
from dispatch.models import DeliveryProof, Stop, StopStatus
from notifications.models import MessageKind
from notifications.rules import notification_settings_get
from notifications.services.context import order_context
from notifications.services.messages import message_queue
from notifications.services.rendering import customer_reason, template_language
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


def on_order_planned(payload: dict) -> None:
    if (order := _order(payload["order_id"])) is None:
        return
    # One confirmation per order: re-planning (planned, back to validated, planned) says nothing new.
    context = order_context(order)
    message_queue(order=order, kind=MessageKind.ORDER_CONFIRMED, cause=f"order:{order.pk}", context=context)


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
    language = template_language(kind=MessageKind.FAILED, language=settings.language)
    context = order_context(order)
    # The tracking page offers the next slots when asked (`?reschedule=1`) for a failed order.
    context["reschedule_url"] = f"{context['tracking_url']}?reschedule=1"
    context["reason"] = customer_reason(payload.get("reason", ""), language)
    message_queue(order=order, kind=MessageKind.FAILED, cause=_attempt_cause(order), context=context)


def on_order_rescheduled(payload: dict) -> None:
    if (order := _order(payload["order_id"])) is None:
        return
    if failure_awaits_customer_slot(organization=order.organization, order=order):
        return  # no new time to tell: the "failed" message asked the customer to pick one
    message_queue(order=order, kind=MessageKind.RESCHEDULED, cause=_attempt_cause(order), context=order_context(order))


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
