"""Production shape: Redis and a real `live` worker. A message whose worker is down is not lost:
it goes out once a worker runs again."""

import uuid

import pytest

from common.models import OutboxEvent
from notifications.models import Message, MessageStatus
from orders.services import order_cancel
from tests.workers import celery_worker_process, project_app_sending_to, wait_for

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def test_a_message_committed_while_no_worker_runs_goes_out_when_one_starts(
    postgres, redis_url, settings, tmp_path, dispatcher_actor, make_stop
):
    prefix = f"notify-{uuid.uuid4().hex[:8]}-"
    settings.WAYPOINT_QUEUE_PREFIX = prefix
    stop = make_stop()
    worker = None
    try:
        with project_app_sending_to(redis_url):
            # given: the cancel commits and its task waits in Redis; no worker consumes the queue
            order_cancel(actor=dispatcher_actor, order=stop.order, reason="customer asked")
            assert OutboxEvent.objects.filter(delivered_at__isnull=True).count() == 1
            assert Message.objects.count() == 0

            # when: a live worker starts
            worker, _ = celery_worker_process(
                redis_url,
                queues=["live"],
                prefix=prefix,
                env={
                    "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                    "EMAIL_FILE_PATH": str(tmp_path),
                },
            )

            # then: the event is delivered and the email written, once
            assert wait_for(lambda: Message.objects.filter(status=MessageStatus.SENT).exists(), timeout=90)
    finally:
        if worker is not None:
            worker.terminate()
            output = worker.communicate(timeout=60)[0].decode(errors="replace")
    message = Message.objects.get()
    [written] = list(tmp_path.iterdir())
    assert f"Subject: {message.subject}" in written.read_text()
    assert message.provider_id
    assert "Traceback" not in output
