"""Messages: queued in the transaction of their cause, sent after commit, retried, swept.

`message_queue` runs inside the outbox delivery of a domain event (notifications/handlers.py):
the Message row commits with the subscriber's receipt, or not at all, and its task is enqueued
only after that commit. `dedupe_key` is unique, so a redelivered event, a repeated slip or two
workers racing never make a second message. A task lost with its worker or broker leaves the row
queued: the sweep hands it to a worker again, so a message goes out once workers are back.
"""

import datetime as dt
import logging
from dataclasses import dataclass
from functools import partial

from celery import signature
from django.db import IntegrityError, transaction

from accounts.models import Organization
from common import clock
from common.bulk import insert_new
from common.errors import is_redis_outage
from notifications.channels import ProviderError, email_send, sms_provider
from notifications.models import Channel, Message, MessageStatus, MessageTemplate
from notifications.rules import channels_for, notification_settings_get, quiet_until
from notifications.services.optout import opted_out, opted_out_among, unsubscribe_url
from notifications.services.rendering import customer_language, message_render, template_overrides
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


@dataclass(frozen=True)
class Notice:
    """One order to tell something: `cause` names what the message is about (e.g. "order:12",
    "exception:7") and with the kind and channel makes the dedupe key; `context` is what it says."""

    order: Order
    cause: str
    context: dict


def message_queue(*, order: Order, kind: str, cause: str, context: dict) -> list[Message]:
    """Write the messages the organisation's rules ask for about `order`; returns the new rows."""
    return messages_queue(organization=order.organization, kind=kind, notices=[Notice(order, cause, context)])


@dataclass(frozen=True)
class _Draft:
    notice: Notice
    channel: str
    recipient: str
    language: str
    dedupe_key: str


def messages_queue(*, organization: Organization, kind: str, notices: list[Notice]) -> list[Message]:
    """Write the messages of one kind about many orders of `organization`; returns the new rows.

    The queries do not grow with the orders (a bulk import's confirmations): the settings, the
    rules, the organisation's wordings, the messages already queued and the opt-outs are each read
    once, and the new rows are written with one insert.
    """
    channels = channels_for(organization=organization, kind=kind)
    if not channels or not notices:
        return []
    settings = notification_settings_get(organization=organization)
    drafts = _drafts(kind=kind, channels=channels, organization_language=settings.language, notices=notices)
    if not drafts:
        return []
    orders = {draft.notice.order.pk for draft in drafts}
    taken = set(Message.objects.filter(kind=kind, order__in=orders).values_list("dedupe_key", flat=True))
    languages = {draft.language for draft in drafts}
    overrides = template_overrides(organization_id=organization.pk, kind=kind, languages=languages)
    suppressed = opted_out_among(
        organization=organization, contacts={(draft.channel, draft.recipient) for draft in drafts}
    )
    now = clock.now()
    due = quiet_until(settings=settings, timezone=organization.timezone, kind=kind, at=now) or now
    messages = []
    for draft in drafts:
        if draft.dedupe_key in taken:
            continue
        taken.add(draft.dedupe_key)
        opted = (draft.channel, draft.recipient) in suppressed
        message = _message(organization, kind, draft, override=overrides.get(draft.language))
        message.status = MessageStatus.SUPPRESSED if opted else MessageStatus.QUEUED
        message.reason = "opt_out" if opted else ""
        message.next_attempt_at, message.created_at = due, now
        messages.append(message)
    created = _insert(messages)
    for message in created:
        if message.status == MessageStatus.SUPPRESSED:
            logger.info(
                "Message %s to %s suppressed: opted out of %s", message.dedupe_key, message.recipient, message.channel
            )
    if due <= now and (ready := [m.pk for m in created if m.status == MessageStatus.QUEUED]):
        transaction.on_commit(partial(_send_later, ready))
    return created


def _drafts(*, kind: str, channels: list[str], organization_language: str, notices: list[Notice]) -> list[_Draft]:
    """A message per notice and channel with a recipient, in the customer's language."""
    languages: dict[str, str] = {}
    drafts = []
    for notice in notices:
        order = notice.order
        if order.language not in languages:
            languages[order.language] = customer_language(
                kind=kind, order_language=order.language, organization_language=organization_language
            )
        for channel in channels:
            if recipient := recipient_of(order, channel):
                key = f"{kind}:{notice.cause}:{channel}"
                drafts.append(_Draft(notice, channel, recipient, languages[order.language], key))
    return drafts


def _message(organization: Organization, kind: str, draft: _Draft, *, override: MessageTemplate | None) -> Message:
    link = unsubscribe_url(organization_id=organization.pk, channel=draft.channel, contact=draft.recipient)
    subject, body, body_html = message_render(
        kind=kind,
        channel=draft.channel,
        language=draft.language,
        context={**draft.notice.context, "unsubscribe_url": link},
        override=override,
    )
    return Message(
        organization=organization,
        order=draft.notice.order,
        kind=kind,
        channel=draft.channel,
        recipient=draft.recipient,
        language=draft.language,
        subject=subject,
        body=body,
        body_html=body_html,
        dedupe_key=draft.dedupe_key,
    )


def _insert(messages: list[Message]) -> list[Message]:
    """All in one statement; when a cause was queued concurrently (its key is taken), one savepoint
    per message instead, and that message stands."""
    if not messages:
        return []
    try:
        with transaction.atomic():
            insert_new(messages)
        return messages
    except IntegrityError:
        for message in messages:
            message.pk = None
    created = []
    for message in messages:
        try:
            with transaction.atomic():
                message.save()
        except IntegrityError:
            continue
        created.append(message)
    return created


SEND_TASK = "notifications.tasks.message_send_task"


def _send_later(message_ids: list[int]) -> None:
    for message_id in message_ids:
        try:
            # By name: the task module imports this one (registered in notifications/apps.py).
            signature(SEND_TASK, args=[message_id]).delay()
        except Exception as error:
            if not is_redis_outage(error):
                raise
            # The rows are committed and queued: the sweep sends them once the broker is back.
            logger.warning("Broker unavailable, messages %s left to the sweep: %r", message_ids, error)
            return


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
