"""Arriving soon: one message per stop when its live ETA comes within the organisation's N minutes.

Tracking refreshes StopEta on every position but knows nothing of N, which is notifications'
setting (and tracking must not import notifications); publishing an event for every estimate
change would cost an outbox row per stop per position. A sweep every 30 s over today's open
estimates is one query, and the message's dedupe key (per stop) makes it once per stop.
"""

import datetime as dt

from common import clock
from dispatch.models import StopStatus
from notifications.models import MessageKind
from notifications.rules import notification_settings_get
from notifications.services.context import order_context
from notifications.services.messages import message_queue
from orders.lifecycle import OrderStatus
from tracking.models import StopEta

# The largest N an organisation may choose (NotificationSettings.arriving_soon_minutes).
HORIZON = dt.timedelta(minutes=120)


def arriving_soon_scan(*, now: dt.datetime | None = None) -> int:
    """Queue "arriving soon" for stops now within their organisation's N minutes; returns how many stops."""
    now = now or clock.now()
    estimates = (
        StopEta.objects.filter(
            eta__gte=now,
            eta__lte=now + HORIZON,
            stop__status__in=(StopStatus.PLANNED, StopStatus.EN_ROUTE),
            stop__order__status__in=(OrderStatus.DISPATCHED, OrderStatus.OUT_FOR_DELIVERY),
        )
        .select_related("stop__order__organization")
        .order_by("eta")
    )
    lead: dict[int, dt.timedelta] = {}
    queued = 0
    for estimate in estimates:
        order = estimate.stop.order
        if order.organization_id not in lead:
            settings = notification_settings_get(organization=order.organization)
            lead[order.organization_id] = dt.timedelta(minutes=settings.arriving_soon_minutes)
        if estimate.eta - now > lead[order.organization_id]:
            continue
        context = order_context(order)
        minutes = max(1, round((estimate.eta - now).total_seconds() / 60))
        context.update(eta=estimate.eta, minutes=minutes)
        if message_queue(
            order=order, kind=MessageKind.ARRIVING_SOON, cause=f"stop:{estimate.stop_id}", context=context
        ):
            queued += 1
    return queued
