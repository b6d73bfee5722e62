from celery import shared_task
from django.db import transaction

from notifications.services.arriving import arriving_soon_scan
from notifications.services.messages import message_send, messages_sweep
from notifications.webhooks.eta import webhook_eta_scan


@shared_task(acks_late=True, reject_on_worker_lost=True)
def message_send_task(message_id: int) -> None:
    """Send one message; a redelivered task finds it sent (or locked) and does nothing."""
    delay = message_send(message_id=message_id)
    if delay is not None:
        message_send_task.apply_async(args=[message_id], countdown=delay)


@shared_task
def messages_sweep_task() -> int:
    """Periodic: queued messages that are due (quiet hours over, a retry due, a lost task) go to a worker."""
    due = messages_sweep()
    for message_id in due:
        message_send_task.delay(message_id)
    return len(due)


@shared_task
def arriving_soon_scan_task() -> int:
    with transaction.atomic():
        return arriving_soon_scan()


@shared_task
def webhook_eta_scan_task() -> int:
    """Periodic: order.eta_changed for ETAs new or moved past the debounce (notifications/webhooks/eta.py).

    Here rather than in notifications/webhooks/tasks.py, which the webhook services import: the
    scan imports them in turn. Each stop is its own transaction: one failure rolls back one stop.
    """
    return webhook_eta_scan()
