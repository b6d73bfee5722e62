import datetime as dt
from collections import defaultdict

from celery import shared_task

from common.idempotency import idempotency_purge
from common.outbox import events_deliver, events_purge, events_sweep

SWEEP_CHUNK = 500


@shared_task
def idempotency_purge_task() -> int:
    return idempotency_purge()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def events_deliver_task(event_ids: list[int]) -> None:
    """Deliver outbox events; a redelivered message finds them delivered and does nothing."""
    retries = events_deliver(event_ids=event_ids)
    by_delay: dict[float, list[int]] = defaultdict(list)
    for event_id, delay in retries.items():
        by_delay[delay].append(event_id)
    for delay, ids in by_delay.items():
        events_deliver_task.apply_async(args=[ids], countdown=delay)


def events_deliver_later(event_ids: list[int]) -> None:
    events_deliver_task.delay(event_ids)


@shared_task
def events_sweep_task(grace_s: float | None = None) -> int:
    """Periodic: hand events whose delivery task was lost (a worker killed mid-way) to a worker again."""
    overdue = events_sweep() if grace_s is None else events_sweep(grace=dt.timedelta(seconds=grace_s))
    for start in range(0, len(overdue), SWEEP_CHUNK):
        events_deliver_task.delay(overdue[start : start + SWEEP_CHUNK])
    return len(overdue)


@shared_task
def events_purge_task() -> int:
    return events_purge()
