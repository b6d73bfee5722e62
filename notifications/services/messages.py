"""Messages: queued in the transaction of their cause, sent after commit, retried, swept.

`message_queue` runs inside the outbox delivery of a domain event (notifications/handlers.py):
the Message row commits with the subscriber's receipt, or not at all, and its task is enqueued
only after that commit. `dedupe_key` is unique, so a redelivered event, a repeated slip or two
workers racing never make a second message. A task lost with its worker or broker leaves the row
queued: the sweep hands it to a worker again, so a message goes out once workers are back.
"""

import datetime as dt
import logging
from functools import partial

from celery import signature
from django.db import IntegrityError, transaction

from common import clock
from common.errors import is_redis_outage
from notifications.channels import ProviderError, email_send, sms_provider
from notifications.models import Channel, Message, MessageStatus
from notifications.rules import channels_for, notification_settings_get, quiet_until
from notifications.services.optout import opted_out, unsubscribe_url
from notifications.services.rendering import message_render, template_language, template_override
from orders.models import Order

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
RETRY_BASE = dt.timedelta(seconds=30)
RETRY_CAP = dt.timedelta(minutes=30)
SWEEP_LIMIT = 500


def retry_delay(attempts: int) -> dt.timedelta:
    """The wait after the `attempts`-th failed attempt: 30 s doubling, capped at 30 minutes."""
    return min(RETRY_CAP, RETRY_BASE * 2 ** (attempts - 1))


def recipient_of(order: Order, channel: str) -> str:
    return (order.customer_email if channel == Channel.EMAIL else order.customer_phone).strip()


def message_queue(*, order: Order, kind: str, cause: str, context: dict) -> list[Message]:
    """Write the messages the organisation's rules ask for about `order`; returns the new rows.

    `cause` names what the message is about (e.g. "order:12", "exception:7"): with the kind and
    channel it makes the dedupe key.
    """
    organization = order.organization
    settings = notification_settings_get(organization=organization)
    language = template_language(kind=kind, language=settings.language)
    override = template_override(organization_id=organization.pk, kind=kind, language=language)
    now = clock.now()
    created = []
    for channel in channels_for(organization=organization, kind=kind):
        recipient = recipient_of(order, channel)
        dedupe_key = f"{kind}:{cause}:{channel}"
        if not recipient or Message.objects.filter(dedupe_key=dedupe_key).exists():
            continue
        link = unsubscribe_url(organization_id=organization.pk, channel=channel, contact=recipient)
        subject, body, body_html = message_render(
            kind=kind,
            channel=channel,
            language=language,
            context={**context, "unsubscribe_url": link},
            override=override,
        )
        suppressed = opted_out(organization=organization, channel=channel, contact=recipient)
        due = quiet_until(settings=settings, timezone=organization.timezone, kind=kind, at=now) or now
        message = Message(
            organization=organization,
            order=order,
            kind=kind,
            channel=channel,
            recipient=recipient,
            language=language,
            subject=subject,
            body=body,
            body_html=body_html,
            status=MessageStatus.SUPPRESSED if suppressed else MessageStatus.QUEUED,
            reason="opt_out" if suppressed else "",
            next_attempt_at=due,
            dedupe_key=dedupe_key,
            created_at=now,
        )
        try:
            with transaction.atomic():
                message.save()
        except IntegrityError:
            continue  # the same cause queued concurrently: that message stands
        if suppressed:
            logger.info("Message %s to %s suppressed: opted out of %s", dedupe_key, recipient, channel)
        elif due <= now:
            transaction.on_commit(partial(_send_later, message.pk))
        created.append(message)
    return created


SEND_TASK = "notifications.tasks.message_send_task"


def _send_later(message_id: int) -> None:
    try:
        # By name: the task module imports this one (registered in notifications/apps.py).
        signature(SEND_TASK, args=[message_id]).delay()
    except Exception as error:
        if not is_redis_outage(error):
            raise
        # The row is committed and queued: the sweep sends it once the broker is back.
        logger.warning("Broker unavailable, message %s left to the sweep: %r", message_id, error)


def message_send(*, message_id: int) -> float | None:
    """Send a due, queued message; returns the seconds until its retry when the provider failed.

    The row stays locked while the provider is called, so a redelivered task or the sweep's task
    skips it instead of sending it twice. A worker killed after the provider accepted and before
    the commit leaves it queued, and it goes again: at least once, as providers expect.
    """
    now = clock.now()
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, status=MessageStatus.QUEUED, next_attempt_at__lte=now)
            .first()
        )
        if message is None:
            return None
        if opted_out(organization=message.organization_id, channel=message.channel, contact=message.recipient):
            _finish(message, MessageStatus.SUPPRESSED, reason="opt_out")
            return None
        message.attempts += 1
        try:
            sent = _deliver(message)
        except ProviderError as error:
            return _failed(message, str(error), now)
        except Exception as error:
            # A provider's own bug counts as a failed attempt: retried, then given up on, rather
            # than leaving the message queued for every sweep to fail on forever.
            logger.exception("Message #%d: the %s provider raised", message.pk, message.channel)
            return _failed(message, f"{type(error).__name__}: {error}", now)
        message.provider_id, message.cost, message.error = sent.provider_id, sent.cost, ""
        message.sent_at = clock.now()
        _finish(message, MessageStatus.SENT)
    return None


def _deliver(message: Message):
    if message.channel == Channel.EMAIL:
        link = unsubscribe_url(
            organization_id=message.organization_id, channel=message.channel, contact=message.recipient
        )
        # Mail clients offer their own unsubscribe button from these (RFC 2369 and RFC 8058 one-click).
        headers = {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
        return email_send(
            recipient=message.recipient,
            subject=message.subject,
            body=message.body,
            body_html=message.body_html,
            headers=headers,
        )
    return sms_provider().send(to=message.recipient, body=message.body)


def _failed(message: Message, error: str, now: dt.datetime) -> float | None:
    message.error = error[:2000]
    if message.attempts >= MAX_ATTEMPTS:
        logger.error("Message #%d gave up after %d attempts: %s", message.pk, message.attempts, error)
        _finish(message, MessageStatus.FAILED)
        return None
    delay = retry_delay(message.attempts)
    message.next_attempt_at = now + delay
    message.save(update_fields=["attempts", "error", "next_attempt_at"])
    logger.warning("Message #%d attempt %d failed, retry in %s: %s", message.pk, message.attempts, delay, error)
    return delay.total_seconds()


def _finish(message: Message, status: str, *, reason: str = "") -> None:
    if not message.can_transition(status):
        raise ValueError(f"message {message.pk} cannot go from {message.status} to {status}")
    message.status, message.reason = status, reason or message.reason
    message.save(update_fields=["status", "reason", "attempts", "provider_id", "cost", "error", "sent_at"])


def messages_sweep(*, now: dt.datetime | None = None, limit: int = SWEEP_LIMIT) -> list[int]:
    """Queued messages due now: those out of quiet hours, due a retry, or whose task was lost."""
    now = now or clock.now()
    due = Message.objects.filter(status=MessageStatus.QUEUED, next_attempt_at__lte=now)
    return list(due.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])
