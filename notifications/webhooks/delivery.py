"""Sending deliveries: at least once, in order per order and endpoint, retried for over 24 hours.

A send claims the delivery (a short lease in `next_attempt_at`, so the sweep leaves it alone),
makes the HTTP request outside any transaction, then records the attempt. A worker killed in
between leaves the lease to expire and the sweep sends again: the receiver dedupes by
`webhook-id`. An order's later event waits while an earlier one for the same endpoint is pending.
After the last attempt fails the delivery is `failed`; if the endpoint has not succeeded since the
delivery's first attempt either, the failure is persistent: the endpoint is disabled and the
organization's admins are told by email.
"""

import datetime as dt
import random
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string

from accounts.models import Role, User
from common import clock
from notifications.models.webhooks import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from notifications.webhooks import client
from notifications.webhooks.addresses import ReceiverRefused, receiver_check
from notifications.webhooks.catalogue import TEST_EVENT
from notifications.webhooks.signing import signed_headers

# The wait after the n-th failed attempt of a round: about 27.5 hours from first to last attempt,
# more than 24 hours even with the jitter at its lowest.
RETRY_DELAYS = (
    dt.timedelta(seconds=5),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=5),
    dt.timedelta(hours=10),
    dt.timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# ±10%, so that the deliveries that failed together (a receiver down) do not all return at once.
JITTER = 0.1
# How long a claimed delivery is left to its sender: longer than the client's worst case.
CLAIM_FOR = dt.timedelta(seconds=client.CONNECT_TIMEOUT_S + client.TOTAL_DEADLINE_S + 60)


def retry_delay(attempts: int, *, rng: random.Random | None = None) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt, jittered."""
    base = RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
    return base * (1 + (rng or random).uniform(-JITTER, JITTER))


@dataclass(frozen=True)
class Outcome:
    """What a send did: `sent` (an attempt was made), `delivered`, and the deliveries it unblocked."""

    sent: bool = False
    delivered: bool = False
    retry_in: dt.timedelta | None = None
    unblocked: tuple[int, ...] = ()


def _blocked(delivery: WebhookDelivery) -> bool:
    if delivery.event.order_id is None:
        return False
    return WebhookDelivery.objects.filter(
        endpoint_id=delivery.endpoint_id,
        event__order_id=delivery.event.order_id,
        event_id__lt=delivery.event_id,
        status=DeliveryStatus.PENDING,
    ).exists()


def _claim(delivery_id: int) -> WebhookDelivery | None:
    now = clock.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint", "event")
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .first()
        )
        if delivery is None:
            return None
        if not delivery.endpoint.active and delivery.event.type != TEST_EVENT:
            delivery.status = DeliveryStatus.ABANDONED
            delivery.save(update_fields=["status"])
            return None
        if _blocked(delivery):
            return None
        delivery.next_attempt_at = now + CLAIM_FOR
        delivery.save(update_fields=["next_attempt_at"])
    return delivery


def webhook_deliver(*, delivery_id: int) -> Outcome:
    """Make the delivery's next attempt if it is due and not waiting behind its order's earlier event."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return Outcome()
    endpoint, event = delivery.endpoint, delivery.event
    started_at = clock.now()
    headers = signed_headers(
        event_id=event.event_id,
        at=started_at,
        body=event.body,
        secrets_in_use=endpoint.signing_secrets(at=started_at),
    )
    try:
        receiver_check(endpoint.url)
    except ReceiverRefused as error:
        answer = client.Answer(None, "", str(error)[:500], 0)
    else:
        answer = client.post(endpoint.url, body=event.body.encode(), headers=headers)
    return _record(delivery_id, started_at=started_at, headers=headers, answer=answer)


def _record(delivery_id: int, *, started_at: dt.datetime, headers: dict, answer: client.Answer) -> Outcome:
    now = clock.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().select_related("event").get(pk=delivery_id)
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        number = WebhookAttempt.objects.filter(delivery=delivery).count() + 1
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=started_at,
            duration_ms=answer.duration_ms,
            # The signatures are not secrets, but the log has no use for them.
            request_headers={k: v for k, v in headers.items() if k != "webhook-signature"},
            response_status=answer.status,
            response_body=answer.body_excerpt,
            error=answer.error,
            succeeded=answer.ok,
        )
        delivery.attempts += 1
        delivery.last_attempt_at, delivery.last_response_status = started_at, answer.status
        delivery.last_error = answer.error or ("" if answer.ok else f"HTTP {answer.status}")
        retry_in = None
        if answer.ok:
            delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
            endpoint.consecutive_failures, endpoint.last_success_at = 0, now
        else:
            endpoint.consecutive_failures += 1
            if delivery.attempts >= MAX_ATTEMPTS:
                delivery.status = DeliveryStatus.FAILED
                if _persistent(endpoint, delivery) and delivery.event.type != TEST_EVENT:
                    _disable(endpoint, delivery)
            else:
                retry_in = retry_delay(delivery.attempts)
                delivery.next_attempt_at = now + retry_in
        delivery.save()
        endpoint.save(
            update_fields=["consecutive_failures", "last_success_at", "active", "disabled_reason", "disabled_at"]
        )
        unblocked = () if delivery.status == DeliveryStatus.PENDING else _next_for_order(delivery)
    return Outcome(sent=True, delivered=answer.ok, retry_in=retry_in, unblocked=unblocked)


def _persistent(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> bool:
    """No success at this endpoint since the failed delivery's first attempt of this round."""
    first = WebhookAttempt.objects.filter(delivery=delivery).order_by("-number")[MAX_ATTEMPTS - 1 : MAX_ATTEMPTS]
    first_at = first[0].started_at if first else delivery.created_at
    return endpoint.last_success_at is None or endpoint.last_success_at < first_at


def _next_for_order(delivery: WebhookDelivery) -> tuple[int, ...]:
    if delivery.event.order_id is None:
        return ()
    following = (
        WebhookDelivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            event__order_id=delivery.event.order_id,
            event_id__gt=delivery.event_id,
            status=DeliveryStatus.PENDING,
        )
        .order_by("event_id")
        .values_list("pk", flat=True)[:1]
    )
    return tuple(following)


def _disable(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> None:
    now = clock.now()
    endpoint.active, endpoint.disabled_at = False, now
    endpoint.disabled_reason = (
        f"Disabled automatically on {now:%Y-%m-%d %H:%M} UTC: every attempt to deliver "
        f"{delivery.event.event_id} failed over more than 24 hours ({delivery.last_error})."
    )[:300]
    # What was still waiting would only fail in turn; a replay "since" sends it once fixed.
    WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).exclude(pk=delivery.pk).update(
        status=DeliveryStatus.ABANDONED
    )
    transaction.on_commit(lambda: _notify_admins(endpoint.pk))


def _notify_admins(endpoint_id: int) -> None:
    endpoint = WebhookEndpoint.objects.select_related("organization").get(pk=endpoint_id)
    admins = User.objects.filter(organization_id=endpoint.organization_id, role=Role.ADMIN, is_active=True)
    recipients = sorted({email for email in admins.values_list("email", flat=True) if email})
    if not recipients:
        return
    context = {"endpoint": endpoint, "organization": endpoint.organization}
    send_mail(
        subject=f"Waypoint disabled your webhook endpoint {endpoint.url}",
        message=render_to_string("notifications/webhooks/disabled_email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=recipients,
    )


def webhook_deliveries_due(*, limit: int = 1000) -> list[int]:
    """Pending deliveries due now (never sent, retries whose time came, leases of lost sends)."""
    waiting_behind = WebhookDelivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        event__order_id=OuterRef("event__order_id"),
        event_id__lt=OuterRef("event_id"),
        status=DeliveryStatus.PENDING,
    )
    # Those waiting behind an earlier event of their order follow it when it is settled; left out
    # here, they cannot crowd the due ones out of the limit.
    due = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=clock.now()).exclude(
        Exists(waiting_behind)
    )
    return list(due.order_by("event_id", "pk").values_list("pk", flat=True)[:limit])
