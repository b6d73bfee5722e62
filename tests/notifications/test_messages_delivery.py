"""Messages are durable: queued in the event's delivery, sent once after commit, never lost when
no worker runs, never doubled by a redelivered event, held through quiet hours, and honouring opt-outs."""

import datetime as dt

import pytest
from django.core import mail

from common.events import ORDER_CANCELLED, publish_on_commit
from common.models import OutboxEvent
from common.tasks import events_sweep_task
from notifications.models import Message, MessageStatus, NotificationSettings, OptOut
from notifications.tasks import messages_sweep_task
from orders.services import order_cancel
from tests.clock import TODAY, at
from tests.notifications.conftest import EMAIL, emails_to, sent

pytestmark = pytest.mark.django_db


def test_with_no_worker_the_message_waits_in_the_outbox_and_goes_out_when_workers_return(
    dispatcher_actor, make_stop, time_machine, django_capture_on_commit_callbacks
):
    # given: the cancel commits but no worker ever runs the event's task
    stop = make_stop()
    with django_capture_on_commit_callbacks(execute=False):
        order_cancel(actor=dispatcher_actor, order=stop.order, reason="customer asked")
    assert Message.objects.count() == 0
    assert OutboxEvent.objects.filter(name=ORDER_CANCELLED, delivered_at__isnull=True).count() == 1

    # when: the workers are back, the outbox sweep delivers the event, but the message's own task is lost too
    time_machine.shift(dt.timedelta(minutes=6))
    with django_capture_on_commit_callbacks(execute=False):
        events_sweep_task()
    assert sent() == [("cancelled", "email", "queued")]
    assert mail.outbox == []

    # then: the message sweep sends it
    assert messages_sweep_task() == 1
    assert sent() == [("cancelled", "email", "sent")]
    assert len(emails_to(EMAIL)) == 1
    assert messages_sweep_task() == 0


def test_an_event_delivered_twice_makes_one_message(make_stop, django_capture_on_commit_callbacks):
    stop = make_stop(status="planned")
    stop.order.status = "cancelled"
    stop.order.save()
    payload = {"order_id": stop.order_id, "organization_id": stop.order.organization_id, "from": "dispatched"}

    with django_capture_on_commit_callbacks(execute=True):
        # Two copies of one fact (a publisher retried after a timeout): two outbox rows.
        publish_on_commit(ORDER_CANCELLED, {**payload, "reason": "customer asked"})
        publish_on_commit(ORDER_CANCELLED, {**payload, "reason": "customer asked"})

    assert OutboxEvent.objects.filter(name=ORDER_CANCELLED, delivered_at__isnull=False).count() == 2
    assert sent() == [("cancelled", "email", "sent")]
    assert len(mail.outbox) == 1


def test_a_message_due_in_quiet_hours_waits_until_they_end(
    organization, dispatcher_actor, make_stop, time_machine, django_capture_on_commit_callbacks
):
    NotificationSettings.objects.create(
        organization=organization, quiet_hours_start=dt.time(21), quiet_hours_end=dt.time(7, 30)
    )
    stop = make_stop()
    time_machine.move_to(at(TODAY, 22), tick=False)

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(actor=dispatcher_actor, order=stop.order, reason="customer asked")

    message = Message.objects.get()
    assert (message.status, message.next_attempt_at) == (MessageStatus.QUEUED, at(TODAY + dt.timedelta(days=1), 7, 30))
    time_machine.move_to(at(TODAY + dt.timedelta(days=1), 7, 29), tick=False)
    assert messages_sweep_task() == 0
    assert mail.outbox == []
    time_machine.move_to(at(TODAY + dt.timedelta(days=1), 7, 30), tick=False)
    assert messages_sweep_task() == 1
    assert sent() == [("cancelled", "email", "sent")]


def test_out_for_delivery_is_sent_even_in_quiet_hours(
    driver_actor, route, make_stop, time_machine, django_capture_on_commit_callbacks
):
    from dispatch.execution.services import stops as execution

    make_stop()
    time_machine.move_to(at(TODAY, 6), tick=False)  # before the default quiet hours end at 08:00

    with django_capture_on_commit_callbacks(execute=True):
        execution.shift_start(actor=driver_actor, route=route, at=at(TODAY, 6))

    assert sent() == [("out_for_delivery", "email", "sent"), ("out_for_delivery", "sms", "sent")]


def test_the_unsubscribe_link_records_the_opt_out_and_later_messages_are_suppressed(
    client, organization, dispatcher_actor, make_stop, django_capture_on_commit_callbacks
):
    # given: a message whose email carries the unsubscribe link
    first, second = make_stop(), make_stop()
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(actor=dispatcher_actor, order=first.order, reason="customer asked")
    [email] = mail.outbox
    link = next(word for word in email.body.split() if "/notifications/unsubscribe/" in word)
    path = link.removeprefix("https://waypoint.example")

    # when: the customer opens it (nothing recorded yet) and confirms
    assert "Stop delivery messages by Email to aino@example.fi?" in client.get(path).content.decode()
    assert OptOut.objects.count() == 0
    confirmed = client.post(path)

    # then: the next email to that address is logged as suppressed and not sent
    assert 'data-testid="unsubscribed"' in confirmed.content.decode()
    assert list(OptOut.objects.values_list("channel", "contact")) == [("email", EMAIL)]
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(actor=dispatcher_actor, order=second.order, reason="customer asked")
    assert len(mail.outbox) == 1
    suppressed = Message.objects.get(order=second.order)
    assert (suppressed.status, suppressed.reason) == (MessageStatus.SUPPRESSED, "opt_out")


def test_an_opt_out_recorded_after_queueing_suppresses_the_queued_message(
    organization, dispatcher_actor, make_stop, django_capture_on_commit_callbacks
):
    stop = make_stop()
    with django_capture_on_commit_callbacks(execute=False):
        order_cancel(actor=dispatcher_actor, order=stop.order, reason="customer asked")
    with django_capture_on_commit_callbacks(execute=False):
        events_sweep_task(0)
    OptOut.objects.create(organization=organization, channel="email", contact=EMAIL.upper().lower())

    messages_sweep_task()

    assert sent() == [("cancelled", "email", "suppressed")]
    assert mail.outbox == []


def test_a_forged_unsubscribe_link_is_refused(client):
    response = client.post("/notifications/unsubscribe/not-a-token")

    assert response.status_code == 404
    assert OptOut.objects.count() == 0


def test_a_mail_clients_one_click_unsubscribe_is_recorded(
    client, dispatcher_actor, make_stop, django_capture_on_commit_callbacks
):
    """RFC 8058: the mail client POSTs to the List-Unsubscribe address with no page and no CSRF token."""
    stop = make_stop()
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(actor=dispatcher_actor, order=stop.order, reason="customer asked")
    link = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    # as the mail client reads it: one header line holding the address, not encoded words
    assert f"\nList-Unsubscribe: <{link}>\n" in mail.outbox[0].message().as_string()
    strict = type(client)(enforce_csrf_checks=True)

    response = strict.post(link.removeprefix("https://waypoint.example"), {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert list(OptOut.objects.values_list("channel", "contact")) == [("email", EMAIL)]
