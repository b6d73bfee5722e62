"""Celery entry points of the webhooks (the `live` queue): send one delivery, sweep the due ones."""

import datetime as dt
import logging

from celery import shared_task

from common.errors import is_redis_outage
from notifications.webhooks.delivery import webhook_deliver, webhook_deliveries_due
from notifications.webhooks.retention import webhook_events_purge

logger = logging.getLogger(__name__)
# Retries further off than this are left to the sweep: a broker holding a countdown of hours
# (Redis' visibility timeout) hands it out again early, and the sweep runs every minute anyway.
COUNTDOWN_UP_TO = dt.timedelta(minutes=10)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def webhook_deliver_task(delivery_id: int) -> None:
    """Send one delivery if due; a redelivered message finds it claimed or done and does nothing."""
    outcome = webhook_deliver(delivery_id=delivery_id)
    if outcome.retry_in is not None and outcome.retry_in <= COUNTDOWN_UP_TO:
        webhook_deliver_task.apply_async(args=[delivery_id], countdown=outcome.retry_in.total_seconds())
    for following in outcome.unblocked:
        webhook_deliver_task.delay(following)


def webhook_deliveries_enqueue(delivery_ids: list[int]) -> None:
    try:
        for delivery_id in delivery_ids:
            webhook_deliver_task.delay(delivery_id)
    except Exception as error:
        if not is_redis_outage(error):
            raise
        # The deliveries are committed: the sweep sends them once the broker is back.
        logger.warning("Broker unavailable, webhook deliveries %s left to the sweep: %r", delivery_ids, error)


@shared_task
def webhook_deliveries_sweep_task() -> int:
    """Periodic: send every due delivery whose task was lost, or whose retry time came."""
    due = webhook_deliveries_due()
    webhook_deliveries_enqueue(due)
    return len(due)


@shared_task
def webhook_events_purge_task() -> int:
    """Periodic: forget webhook events past their retention (in batches; the next run takes the rest)."""
    return webhook_events_purge()
