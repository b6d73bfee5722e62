"""The customer-message log through the API: the organisation's messages, filtered, read-only."""

import pytest

from accounts.models import Organization
from dispatch.execution.services import stops as execution
from notifications.models import Message, MessageKind
from orders.services import order_cancel
from tests.clock import START
from tests.factories.fleet import OrderFactory
from tests.notifications.conftest import EMAIL, PHONE

pytestmark = pytest.mark.django_db

MESSAGES = "/api/notifications/messages"


@pytest.fixture
def told(driver_actor, dispatcher_actor, route, make_stop, hub, django_capture_on_commit_callbacks):
    """One order on its way (an email and an SMS), another cancelled (an email), and another
    organisation's message that nobody here may see."""
    going, cancelled = make_stop(), make_stop()
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(actor=dispatcher_actor, order=cancelled.order, reason="customer asked")
    with django_capture_on_commit_callbacks(execute=True):
        execution.shift_start(actor=driver_actor, route=route, at=START)
    other = Organization.objects.create(name="Other", slug="other")
    Message.objects.create(
        organization=other,
        order=OrderFactory(hub=hub, organization=other),
        kind=MessageKind.CANCELLED,
        channel="email",
        recipient="someone@else.example",
        language="en",
        body="not yours",
        dedupe_key="other-org",
    )
    return going.order, cancelled.order


def listed(client, query: str = "") -> list[tuple[str, str, str, str]]:
    response = client.get(f"{MESSAGES}{query}")
    assert response.status_code == 200, response.content
    return [(m["merchant_reference"], m["kind"], m["channel"], m["status"]) for m in response.json()["results"]]


def test_ops_and_merchant_keys_list_the_organisations_messages_newest_first(viewer_client, merchant_client, told):
    going, cancelled = told

    expected = [
        (going.merchant_reference, "out_for_delivery", "sms", "sent"),
        (going.merchant_reference, "out_for_delivery", "email", "sent"),
        (cancelled.merchant_reference, "cancelled", "email", "sent"),
    ]
    assert listed(viewer_client) == expected
    assert listed(merchant_client) == expected


def test_the_list_filters_by_order_kind_channel_and_status(viewer_client, told):
    going, cancelled = told

    assert listed(viewer_client, f"?order={cancelled.merchant_reference}") == [
        (cancelled.merchant_reference, "cancelled", "email", "sent")
    ]
    assert listed(viewer_client, "?kind=out_for_delivery&channel=sms") == [
        (going.merchant_reference, "out_for_delivery", "sms", "sent")
    ]
    assert listed(viewer_client, "?status=suppressed") == []


def test_one_message_reads_whole_with_its_recipient_and_provider_id(viewer_client, told):
    going, _ = told
    sms = Message.objects.get(order=going, channel="sms")

    body = viewer_client.get(f"{MESSAGES}/{sms.pk}").json()

    assert (body["recipient"], body["provider_id"], body["attempts"]) == (PHONE, sms.provider_id, 1)
    assert going.tracking_token in body["body"]


def test_another_organisations_message_is_not_found(viewer_client, told):
    theirs = Message.objects.get(recipient="someone@else.example")

    assert viewer_client.get(f"{MESSAGES}/{theirs.pk}").status_code == 404


def test_a_bad_filter_answers_400_naming_the_field(viewer_client, told):
    response = viewer_client.get(f"{MESSAGES}?kind=postcard&channel=pigeon")

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"kind", "channel"}


def test_drivers_cannot_read_the_log(driver_client, told):
    assert driver_client.get(MESSAGES).status_code == 403


def test_the_log_cannot_be_written(admin_client, told):
    assert admin_client.post(MESSAGES, {"recipient": EMAIL}, format="json").status_code == 405
