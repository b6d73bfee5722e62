"""Celery entry points of the webhooks (the `live` queue): send an endpoint's due deliveries, sweep.

One task works through one endpoint's deliveries in batches (notifications/webhooks/delivery.py),
so a burst of events costs a task per endpoint, not one per delivery: after each commit that adds
deliveries, `webhook_endpoints_enqueue` sends a task for each of their endpoints unless one is
already queued and not yet started (a flag in the cache, which the task clears as it starts: a
delivery committed after that is either claimed by the running task or brings a new one).
"""

import datetime as dt
import logging
import time

from celery import shared_task
from django.core.cache import cache

from common.errors import is_redis_outage
from notifications.webhooks.delivery import webhook_endpoint_send, webhook_endpoints_due
from notifications.webhooks.retention import webhook_events_purge

logger = logging.getLogger(__name__)
# Retries further off than this are left to the sweep: a broker holding a countdown of hours
# (Redis' visibility timeout) hands it out again early, and the sweep runs every minute anyway.
COUNTDOWN_UP_TO = dt.timedelta(minutes=10)
# A task sends batch after batch for this long, then makes way for the rest of the queue (other
# endpoints, customer messages, tracking) and queues itself again behind them.
TURN_S = 5.0
# A queued task whose flag outlives it (the worker lost it) stops shadowing new ones this soon;
# the sweep sends what it left meanwhile.
QUEUED_FLAG_S = 30


def _queued_key(endpoint_id: int) -> str:
    return f"webhooks:send-queued:{endpoint_id}"


@shared_task(acks_late=True, reject_on_worker_lost=True)
def webhook_endpoint_send_task(endpoint_id: int) -> int:
    """Send the endpoint's due deliveries, batch by batch; returns how many attempts it made."""
    try:
        cache.delete(_queued_key(endpoint_id))
    except Exception as error:
        if not is_redis_outage(error):
            raise
    turn_ends = time.monotonic() + TURN_S
    attempts, soonest_retry = 0, None
    while True:
        outcome = webhook_endpoint_send(endpoint_id=endpoint_id, start_by=turn_ends)
        attempts += outcome.sent
        if outcome.retry_in is not None:
            soonest_retry = min(soonest_retry or outcome.retry_in, outcome.retry_in)
        if outcome.left or (outcome.sent and time.monotonic() > turn_ends):
            webhook_endpoints_enqueue([endpoint_id], force=True)
            break
        if not outcome.sent:
            break
    if soonest_retry is not None and soonest_retry <= COUNTDOWN_UP_TO:
        webhook_endpoint_send_task.apply_async(args=[endpoint_id], countdown=soonest_retry.total_seconds())
    return attempts


def webhook_endpoints_enqueue(endpoint_ids: list[int], *, force: bool = False) -> None:
    """A send task for each endpoint that has none waiting in the queue (`force`: one regardless)."""
    try:
        for endpoint_id in endpoint_ids:
            if force or cache.add(_queued_key(endpoint_id), 1, timeout=QUEUED_FLAG_S):
                webhook_endpoint_send_task.delay(endpoint_id)
    except Exception as error:
        if not is_redis_outage(error):
            raise
        # The deliveries are committed: the sweep sends them once the broker is back.
        logger.warning("Broker unavailable, webhook endpoints %s left to the sweep: %r", endpoint_ids, error)


@shared_task
def webhook_deliveries_sweep_task() -> int:
    """Periodic: a send for every endpoint with due deliveries (a lost task, a retry whose time came)."""
    due = webhook_endpoints_due()
    webhook_endpoints_enqueue(due)
    return len(due)


@shared_task
def webhook_events_purge_task() -> int:
    """Periodic: forget webhook events past their retention (in batches; the next run takes the rest)."""
    return webhook_events_purge()
