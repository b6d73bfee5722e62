"""Sending deliveries: at least once, in order per order and endpoint, retried for over 24 hours.

A send works on one endpoint: it claims a batch of its due deliveries (a short lease in
`next_attempt_at`, so the sweep and other workers leave them alone), makes the HTTP requests
outside any transaction, a few at a time over kept-alive connections, then records the attempts
in one transaction. A worker killed in between leaves the lease to expire and the sweep sends
again: the receiver dedupes by `webhook-id`. An order's later event waits while an earlier one for
the same endpoint is pending, so one batch holds at most one event per order.
After the last attempt fails the delivery is `failed`; if the endpoint has not succeeded since the
delivery's first attempt either, the failure is persistent: the endpoint is disabled and the
organization's admins are told by email.
"""

import datetime as dt
import random
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
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
    """What a send did: attempts made, how many delivered, the soonest retry it scheduled, and how
    many claimed deliveries it gave back unsent (its turn ran out)."""

    sent: int = 0
    delivered: int = 0
    retry_in: dt.timedelta | None = None
    left: int = 0


# A send claims at most this many deliveries of one endpoint and makes their requests this many at
# a time: a receiver sees a few concurrent requests, never a flood, and a worker amortises its
# claim and record transactions over the batch.
BATCH = 50
CONCURRENCY = 8
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _senders() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="webhook-send")
        return _pool


def _waiting_behind():
    """An earlier event of the same order still pending for the same endpoint."""
    return WebhookDelivery.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        order_id=OuterRef("order_id"),
        event_id__lt=OuterRef("event_id"),
        status=DeliveryStatus.PENDING,
    )


def _claim(endpoint_id: int, *, limit: int) -> tuple[WebhookEndpoint | None, list[WebhookDelivery]]:
    """Lease the endpoint's due deliveries at the head of their order's queue (one per order).

    `skip_locked`: another worker claiming for the same endpoint takes other rows. An order's next
    event stays out while its predecessor is pending, claimed or not, so an order's events reach
    the receiver in order.
    """
    now = clock.now()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
        if endpoint is None:
            return None, []
        if endpoint.consecutive_failures:
            # A failing (or timing out) receiver is tried one round of requests at a time.
            limit = min(limit, CONCURRENCY)
        due = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("event")
            .filter(endpoint_id=endpoint_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .exclude(Exists(_waiting_behind()))
            .order_by("event_id")
        )
        if not endpoint.active:
            # Only a test event goes to a disabled endpoint; anything else left is abandoned.
            due.exclude(event__type=TEST_EVENT).update(status=DeliveryStatus.ABANDONED)
            due = due.filter(event__type=TEST_EVENT)
        claimed = list(due[:limit])
        WebhookDelivery.objects.filter(pk__in=[d.pk for d in claimed]).update(next_attempt_at=now + CLAIM_FOR)
    return endpoint, claimed


def webhook_endpoint_send(*, endpoint_id: int, limit: int = BATCH, start_by: float | None = None) -> Outcome:
    """Make the next attempt of up to `limit` due deliveries of the endpoint, CONCURRENCY at a time.

    No request starts after `start_by` (a `time.monotonic()` moment): a slow receiver's batch
    stops there and gives its unsent deliveries back (`Outcome.left`), so that it holds a worker
    for about that long plus one request's timeout, not for the whole batch.
    """
    endpoint, claimed = _claim(endpoint_id, limit=limit)
    if not claimed:
        return Outcome()
    try:
        receiver_check(endpoint.url)
    except ReceiverRefused as error:
        refused = client.Answer(None, "", str(error)[:500], 0)
        sent = [_Sent(delivery, clock.now(), {}, refused) for delivery in claimed]
    else:
        sent = list(_senders().map(lambda delivery: _send(endpoint, delivery, start_by), claimed))
    return _record(endpoint_id, sent)


@dataclass(frozen=True)
class _Sent:
    delivery: WebhookDelivery
    started_at: dt.datetime
    headers: dict
    answer: client.Answer | None  # None: not sent, its turn was over


def _send(endpoint: WebhookEndpoint, delivery: WebhookDelivery, start_by: float | None) -> _Sent:
    event, started_at = delivery.event, clock.now()
    if start_by is not None and time.monotonic() > start_by:
        return _Sent(delivery, started_at, {}, None)
    headers = signed_headers(
        event_id=event.event_id,
        at=started_at,
        body=event.body,
        secrets_in_use=endpoint.signing_secrets(at=started_at),
    )
    answer = client.post(endpoint.url, body=event.body.encode(), headers=headers)
    return _Sent(delivery, started_at, headers, answer)


def _record(endpoint_id: int, sent: list[_Sent]) -> Outcome:
    """The batch's attempts, their deliveries and the endpoint's health, in one transaction."""
    now = clock.now()
    left = [s.delivery.pk for s in sent if s.answer is None]
    sent = [s for s in sent if s.answer is not None]
    ids = [s.delivery.pk for s in sent]
    with transaction.atomic():
        # Given back: due again at once, for the next turn.
        WebhookDelivery.objects.filter(pk__in=left).update(next_attempt_at=now)
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint_id)
        deliveries = {
            d.pk: d for d in WebhookDelivery.objects.select_for_update().select_related("event").filter(pk__in=ids)
        }
        numbers = dict(
            WebhookAttempt.objects.filter(delivery_id__in=ids)
            .values("delivery_id")
            .annotate(last=Max("number"))
            .values_list("delivery_id", "last")
        )
        attempts, exhausted, retry_in, delivered = [], [], None, 0
        # One jittered wait per attempt count: the batch's failures come back together, as a batch.
        waits: dict[int, dt.timedelta] = {}
        for s in sorted(sent, key=lambda s: s.started_at):
            delivery, answer = deliveries[s.delivery.pk], s.answer
            attempts.append(
                WebhookAttempt(
                    delivery=delivery,
                    number=numbers.get(delivery.pk, 0) + 1,
                    started_at=s.started_at,
                    duration_ms=answer.duration_ms,
                    # The signatures are not secrets, but the log has no use for them.
                    request_headers={k: v for k, v in s.headers.items() if k != "webhook-signature"},
                    response_status=answer.status,
                    response_body=answer.body_excerpt,
                    error=answer.error,
                    succeeded=answer.ok,
                )
            )
            delivery.attempts += 1
            delivery.last_attempt_at, delivery.last_response_status = s.started_at, answer.status
            delivery.last_error = answer.error or ("" if answer.ok else f"HTTP {answer.status}")
            if answer.ok:
                delivered += 1
                delivery.status, delivery.delivered_at = DeliveryStatus.DELIVERED, now
                endpoint.consecutive_failures, endpoint.last_success_at = 0, now
                continue
            endpoint.consecutive_failures += 1
            if delivery.attempts < MAX_ATTEMPTS:
                wait = waits.setdefault(delivery.attempts, retry_delay(delivery.attempts))
                delivery.next_attempt_at = now + wait
                retry_in = wait if retry_in is None else min(retry_in, wait)
                continue
            delivery.status = DeliveryStatus.FAILED
            exhausted.append(delivery)
        WebhookAttempt.objects.bulk_create(attempts)
        for delivery in exhausted:
            if delivery.event.type != TEST_EVENT and endpoint.active and _persistent(endpoint, delivery):
                _disable(endpoint, delivery)
        if not endpoint.active:
            # Disabled by this batch: its other pending deliveries are abandoned like the rest.
            for delivery in deliveries.values():
                if delivery.status == DeliveryStatus.PENDING and delivery.event.type != TEST_EVENT:
                    delivery.status = DeliveryStatus.ABANDONED
        _save_grouped(deliveries.values())
        endpoint.save(
            update_fields=["consecutive_failures", "last_success_at", "active", "disabled_reason", "disabled_at"]
        )
    return Outcome(sent=len(sent), delivered=delivered, retry_in=retry_in, left=len(left))


def _save_grouped(deliveries: Iterable[WebhookDelivery]) -> None:
    """One UPDATE per distinct outcome (usually one for the whole batch: all delivered), where
    bulk_update's CASE per row cost a fifth of a second for 50. `last_attempt_at` is the group's
    latest request; the attempt log keeps each request's own time."""
    groups: dict[tuple, list[WebhookDelivery]] = defaultdict(list)
    for d in deliveries:
        groups[(d.status, d.attempts, d.next_attempt_at, d.last_response_status, d.last_error, d.delivered_at)].append(
            d
        )
    for (status, attempts, next_attempt_at, response_status, error, delivered_at), rows in groups.items():
        WebhookDelivery.objects.filter(pk__in=[d.pk for d in rows]).update(
            status=status,
            attempts=attempts,
            next_attempt_at=next_attempt_at,
            last_attempt_at=max(d.last_attempt_at for d in rows),
            last_response_status=response_status,
            last_error=error,
            delivered_at=delivered_at,
        )


def _persistent(endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> bool:
    """No success at this endpoint since the failed delivery's first attempt of this round."""
    first = WebhookAttempt.objects.filter(delivery=delivery).order_by("-number")[MAX_ATTEMPTS - 1 : MAX_ATTEMPTS]
    first_at = first[0].started_at if first else delivery.created_at
    return endpoint.last_success_at is None or endpoint.last_success_at < first_at


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


def webhook_endpoints_due(*, limit: int = 1000) -> list[int]:
    """Endpoints with a pending delivery due now (never sent, a retry whose time came, the lease
    of a lost send run out) that is not waiting behind an earlier event of its order."""
    due = WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=clock.now()).exclude(
        Exists(_waiting_behind())
    )
    return list(due.order_by("endpoint_id").values_list("endpoint_id", flat=True).distinct()[:limit])
