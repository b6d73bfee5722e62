"""Each order event the customer cares about becomes the message the organisation's rules ask for,
after the real service call commits, and is sent by the live task."""

import pytest
from django.core import mail
from django.db import transaction

from dispatch.execution.services import stops as execution
from dispatch.planning.services.plans import plan_dispatch
from notifications.models import Message, MessageKind, MessageStatus, NotificationSettings
from notifications.rules import rule_set
from orders.models import Order
from orders.services import order_cancel, order_transition
from tests.clock import START, TODAY
from tests.dispatch.slots.test_slot_fixtures import make_crew, make_template
from tests.factories.fleet import DAY, PlanFactory, RouteFactory
from tests.notifications.conftest import EMAIL, PHONE, emails_to, sent

pytestmark = pytest.mark.django_db


def test_going_out_for_delivery_sends_the_tracking_link_by_email_and_sms(
    driver_actor, route, make_stop, caplog, django_capture_on_commit_callbacks
):
    stop = make_stop()

    with django_capture_on_commit_callbacks(execute=True):
        execution.shift_start(actor=driver_actor, route=route, at=START)

    assert sent() == [("out_for_delivery", "email", "sent"), ("out_for_delivery", "sms", "sent")]
    link = f"https://waypoint.example/t/{stop.order.tracking_token}"
    [email] = emails_to(EMAIL)
    assert email.subject == f"Your delivery {stop.order.merchant_reference} is on its way"
    assert link in email.body
    sms = Message.objects.get(channel="sms")
    assert sms.recipient == PHONE
    assert link in sms.body
    assert sms.provider_id.startswith("console-")
    assert "code" not in email.body.lower()


def test_dispatching_todays_plan_sends_out_for_delivery_once_and_setting_out_adds_nothing(
    hub, dispatcher_actor, driver_actor, driver, make_stop, django_capture_on_commit_callbacks
):
    # given: an optimized plan of today with two planned orders
    plan = PlanFactory(hub=hub, date=TODAY, status="optimized")
    route = RouteFactory(hub=hub, plan=plan, driver=driver)
    stops = [make_stop(status="planned", route=route, status_order="planned") for _ in range(2)]

    # when: the dispatcher releases it, and later the driver starts the shift
    with django_capture_on_commit_callbacks(execute=True):
        plan_dispatch(actor=dispatcher_actor, plan=plan, expected_version=plan.version)
    with django_capture_on_commit_callbacks(execute=True):
        execution.shift_start(actor=driver_actor, route=route, at=START)

    # then: each customer got one email and one SMS with the tracking link
    assert Order.objects.filter(status="out_for_delivery").count() == 2
    assert sent() == [("out_for_delivery", "email", "sent"), ("out_for_delivery", "sms", "sent")] * 2
    for stop in stops:
        assert Message.objects.filter(order=stop.order, channel="sms").get().body.count(stop.order.tracking_token) == 1


def test_dispatching_tomorrows_plan_waits_for_the_driver_to_set_out(
    hub, dispatcher_actor, driver, make_stop, django_capture_on_commit_callbacks
):
    plan = PlanFactory(hub=hub, date=DAY, status="optimized")
    route = RouteFactory(hub=hub, plan=plan, driver=driver)
    make_stop(status="planned", route=route, status_order="planned", delivery_date=DAY)

    with django_capture_on_commit_callbacks(execute=True):
        plan_dispatch(actor=dispatcher_actor, plan=plan, expected_version=plan.version)

    assert Order.objects.get().status == "dispatched"
    assert sent() == []


def test_an_order_that_asks_for_a_one_time_code_gets_it_with_out_for_delivery(
    driver_actor, route, make_stop, django_capture_on_commit_callbacks
):
    stop = make_stop(status="planned", proof_of_delivery=["one_time_code"])
    Order.objects.filter(pk=stop.order_id).update(status="planned")
    order_transition(actor=None, order=stop.order, to_status="dispatched")

    with django_capture_on_commit_callbacks(execute=True):
        execution.shift_start(actor=driver_actor, route=route, at=START)

    code = Order.objects.get(pk=stop.order_id).delivery_code
    assert len(code) == 6
    assert f"Your one-time delivery code is {code}." in emails_to(EMAIL)[0].body
    assert f"Code for the driver: {code}" in Message.objects.get(channel="sms").body


def test_a_delivery_sends_delivered_with_the_proof_summary(
    driver_actor, driver, make_stop, django_capture_on_commit_callbacks
):
    stop = make_stop(status="arrived")
    Order.objects.filter(pk=stop.order_id).update(status="arrived")

    with django_capture_on_commit_callbacks(execute=True):
        execution.stop_complete(actor=driver_actor, stop=stop, at=START, driver=driver, recipient_name="Aino V.")

    assert sent() == [("delivered", "email", "sent")]  # delivered by SMS is off by default
    body = emails_to(EMAIL)[0].body
    assert "was delivered on Monday 30 November at 08:00." in body
    assert "Received by: Aino V." in body


def test_a_failed_attempt_sends_the_reason_in_the_customers_words_and_a_new_slot_link(
    organization, hub, driver_actor, driver, make_stop, client, django_capture_on_commit_callbacks
):
    # The policy leaves the new time to the customer: the link is how they pick it.
    organization.reattempt_same_day, organization.reschedule_policy = False, "customer_picks"
    organization.save()
    make_crew(hub)
    make_template(hub, "14:00", "16:00")
    stop = make_stop(status="arrived")
    Order.objects.filter(pk=stop.order_id).update(status="arrived")

    with django_capture_on_commit_callbacks(execute=True):
        execution.stop_fail(actor=driver_actor, stop=stop, at=START, reason="customer_absent", driver=driver)

    # No "rescheduled" as well: there is no new time to tell until the customer picks one.
    assert sent() == [("failed", "email", "sent"), ("failed", "sms", "sent")]
    body = emails_to(EMAIL)[0].body
    assert "we could not find anyone at home" in body
    link = f"https://waypoint.example/t/{stop.order.tracking_token}?reschedule=1"
    assert link in body
    page = client.get(link.removeprefix("https://waypoint.example"))
    assert page.status_code == 200
    assert 'name="slot"' in page.content.decode()  # the next slots, ready to pick


def test_a_cancelled_order_sends_cancelled(dispatcher_actor, make_stop, django_capture_on_commit_callbacks):
    stop = make_stop()

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(actor=dispatcher_actor, order=stop.order, reason="customer asked")

    assert sent() == [("cancelled", "email", "sent")]
    assert emails_to(EMAIL)[0].subject == f"Your delivery {stop.order.merchant_reference} is cancelled"


def test_a_rescheduled_order_is_told_its_new_time(make_stop, django_capture_on_commit_callbacks):
    stop = make_stop()
    Order.objects.filter(pk=stop.order_id).update(status="failed")

    with django_capture_on_commit_callbacks(execute=True):
        order_transition(actor=None, order=stop.order, to_status="rescheduled")

    assert sent() == [("rescheduled", "email", "sent")]


def test_a_kind_switched_off_sends_nothing_and_a_channel_switched_on_sends(
    organization, dispatcher_actor, make_stop, django_capture_on_commit_callbacks
):
    rule_set(organization=organization, kind=MessageKind.CANCELLED, channel="email", enabled=False)
    rule_set(organization=organization, kind=MessageKind.CANCELLED, channel="sms", enabled=True)
    stop = make_stop()

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(actor=dispatcher_actor, order=stop.order, reason="customer asked")

    assert sent() == [("cancelled", "sms", "sent")]
    assert mail.outbox == []


def test_a_customer_without_contacts_gets_nothing(dispatcher_actor, make_stop, django_capture_on_commit_callbacks):
    stop = make_stop(customer_email="", customer_phone="")

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(actor=dispatcher_actor, order=stop.order, reason="customer asked")

    assert sent() == []


def test_a_change_that_rolls_back_sends_nothing(dispatcher_actor, make_stop, django_capture_on_commit_callbacks):
    stop = make_stop()

    def cancel_then_fail():
        with transaction.atomic():
            order_cancel(actor=dispatcher_actor, order=stop.order, reason="customer asked")
            raise RuntimeError("the request failed after the cancel")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        cancel_then_fail()

    assert Message.objects.count() == 0
    assert mail.outbox == []
    assert Order.objects.get(pk=stop.order_id).status == "dispatched"


def test_the_email_has_a_plain_text_and_an_html_part(dispatcher_actor, make_stop, django_capture_on_commit_callbacks):
    stop = make_stop()

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(actor=dispatcher_actor, order=stop.order, reason="customer asked")

    [email] = mail.outbox
    [(html, mimetype)] = email.alternatives
    assert mimetype == "text/html"
    assert "<html" in html
    assert email.subject in html
    assert email.body.startswith("Hello Aino Virtanen,")
    assert "<" not in email.body
    message = Message.objects.get()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 1)
    assert message.provider_id == email.extra_headers["Message-ID"]
    assert email.extra_headers["List-Unsubscribe"].startswith("<https://waypoint.example/notifications/unsubscribe/")
    assert message.sent_at >= START


def test_an_organisation_writing_in_finnish_sends_the_finnish_template(
    organization, dispatcher_actor, make_stop, django_capture_on_commit_callbacks
):
    NotificationSettings.objects.create(organization=organization, language="fi")
    stop = make_stop()

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(actor=dispatcher_actor, order=stop.order, reason="customer asked")

    [email] = mail.outbox
    assert email.subject == f"Toimituksesi {stop.order.merchant_reference} on peruttu"
    assert email.body.startswith("Hei Aino Virtanen,")
    assert Message.objects.get().language == "fi"


def test_a_language_without_templates_falls_back_to_english(
    organization, dispatcher_actor, make_stop, django_capture_on_commit_callbacks
):
    NotificationSettings.objects.create(organization=organization, language="sv")
    stop = make_stop()

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(actor=dispatcher_actor, order=stop.order, reason="customer asked")

    assert mail.outbox[0].subject == f"Your delivery {stop.order.merchant_reference} is cancelled"
    assert Message.objects.get().language == "en"
