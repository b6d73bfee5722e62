"""Two workers handling the same cause at the same moment (a redelivered event racing the first
delivery) still make one message: the dedupe key is unique in the database."""

import pytest
from django.db import transaction

from notifications.models import Message, MessageKind
from notifications.services.context import order_context
from notifications.services.messages import message_queue
from orders.models import Order
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_workers_queueing_one_cause_make_one_message(postgres, make_stop):
    stop = make_stop()

    def queue():
        with transaction.atomic():
            order = Order.objects.select_related("organization").get(pk=stop.order_id)
            return len(
                message_queue(
                    order=order, kind=MessageKind.CANCELLED, cause=f"order:{order.pk}", context=order_context(order)
                )
            )

    created = run_together([queue, queue])

    assert sorted(created) == [0, 1]
    assert Message.objects.count() == 1
