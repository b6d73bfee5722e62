"""order.eta_changed, debounced: a periodic scan over the live ETAs, as "arriving soon" does.

Tracking refreshes StopEta on every driver position and publishes nothing (an outbox row per stop
per position would cost more than all the other events together). Every
WAYPOINT_NOTIFICATION_SWEEP_S this scan announces a stop's ETA when it was never announced, or
when it moved by at least WAYPOINT_WEBHOOK_ETA_CHANGE_MINUTES from the last announced one. The
last announced ETA is kept per stop (WebhookEtaAnnouncement) and claimed in the transaction that
writes the event and its deliveries, so two scans racing over a stop announce it once.
"""

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from common import clock
from dispatch.models import PlanStatus, StopStatus
from notifications.models.webhooks import WebhookEndpoint, WebhookEtaAnnouncement
from notifications.webhooks.catalogue import ETA_CHANGED, eta_changed_data
from notifications.webhooks.services import webhook_event_record
from orders.lifecycle import OrderStatus
from tracking.models import StopEta


def _organizations_listening() -> set[int]:
    """Organisations with an active endpoint subscribed to order.eta_changed (or to every type)."""
    endpoints = WebhookEndpoint.objects.filter(active=True).values_list("organization_id", "event_types")
    return {organization_id for organization_id, types in endpoints if not types or ETA_CHANGED in types}


def webhook_eta_scan(*, now: dt.datetime | None = None) -> int:
    """Announce the ETAs that are new or moved past the debounce; returns how many were announced."""
    now = now or clock.now()
    organizations = _organizations_listening()
    # Organisations without such an endpoint cost this one query over the endpoints.
    if not organizations:
        return 0
    debounce = dt.timedelta(minutes=settings.WAYPOINT_WEBHOOK_ETA_CHANGE_MINUTES)
    estimates = (
        StopEta.objects.filter(
            stop__order__organization_id__in=organizations,
            stop__route__plan__status=PlanStatus.DISPATCHED,
            stop__route__shift_ended_at__isnull=True,
            stop__status__in=(StopStatus.PLANNED, StopStatus.EN_ROUTE),
            stop__order__status__in=(OrderStatus.DISPATCHED, OrderStatus.OUT_FOR_DELIVERY),
        )
        .annotate(announced=F("stop__webhook_eta_announcement__eta"))
        .select_related("stop__order__hub", "stop__order__organization")
        .order_by("stop_id")
    )
    announced = 0
    for estimate in estimates:
        if estimate.announced is not None and abs(estimate.eta - estimate.announced) < debounce:
            continue
        if _announce(estimate, previous=estimate.announced, now=now):
            announced += 1
    return announced


def _announce(estimate: StopEta, *, previous: dt.datetime | None, now: dt.datetime) -> bool:
    order = estimate.stop.order
    try:
        with transaction.atomic():
            if previous is None:
                WebhookEtaAnnouncement.objects.create(stop_id=estimate.stop_id, eta=estimate.eta, announced_at=now)
            else:
                # Only from the ETA this scan read: a scan that announced first leaves nothing to claim.
                claimed = WebhookEtaAnnouncement.objects.filter(stop_id=estimate.stop_id, eta=previous).update(
                    eta=estimate.eta, announced_at=now
                )
                if not claimed:
                    return False
            webhook_event_record(
                organization_id=order.organization_id,
                event_type=ETA_CHANGED,
                data=eta_changed_data(order, eta=estimate.eta, previous_eta=previous),
                order_id=order.pk,
            )
    except IntegrityError:
        return False  # another scan announced this stop's first ETA
    return True
