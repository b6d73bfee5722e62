"""Ops see each failed or skipped stop as an exception saying why and what the failed-delivery policy
decided; the customer left to pick a new slot gets the slots on the tracking page at once."""

import pytest

from accounts.models import Organization
from common.events import FAILURE_POLICY_DECIDED, publish_on_commit
from dispatch.models import FailureReason, Stop
from orders.models import Order
from orders.services import order_transition
from tests.dispatch.execution.failures import fail, first_stop, now, route  # noqa: F401
from tests.factories.fleet import SlotTemplateFactory
from tracking.models import DeliveryException

# Shared fixtures are imported above; pyflakes reads their use as arguments as redefinitions.
# ruff: noqa: F811

pytestmark = pytest.mark.django_db


@pytest.fixture
def slots(hub):
    return SlotTemplateFactory(hub=hub)


def policy(route, **fields) -> None:
    Organization.objects.filter(pk=route.plan.organization_id).update(**fields)


def test_a_failure_raises_one_exception_with_the_reason_and_the_decision(
    route, slots, django_capture_on_commit_callbacks
):
    policy(route, reattempt_same_day=False)
    stop = first_stop(route)

    fail(stop, django_capture_on_commit_callbacks)

    exception = DeliveryException.objects.get()
    assert exception.kind == "failed_attempt"
    assert exception.cause == f"failed_attempt:stop:{stop.pk}"
    assert exception.message == (
        f"{stop.order.merchant_reference}: Failed: customer not at home (attempt 1 of 3) — "
        "rescheduled to Wed 2 Dec 10:00–12:00"
    )
    assert exception.severity == "warning"
    assert exception.suggested_actions == ["Tell the customer the new delivery time", "Offer the customer another slot"]
    assert (exception.order_id, exception.route_id, exception.driver_id) == (stop.order_id, route.pk, route.driver_id)


def test_a_reattempt_on_the_route_is_named_in_the_exception(route, django_capture_on_commit_callbacks):
    stop = first_stop(route)

    fail(stop, django_capture_on_commit_callbacks)

    exception = DeliveryException.objects.get()
    new_stop = Stop.objects.get(order_id=stop.order_id, status="planned")
    assert exception.message.startswith(
        f"{stop.order.merchant_reference}: Failed: customer not at home (attempt 1 of 3) — "
        f"re-attempt later today on route {route.pk}, about "
    )
    assert exception.message.endswith(f"{new_stop.planned_arrival.astimezone(route.plan.hub.tz):%H:%M}")
    assert exception.suggested_actions[0] == "Call the customer to check someone is in later today"


def test_a_return_to_the_hub_is_critical(route, django_capture_on_commit_callbacks):
    stop = first_stop(route)

    fail(stop, django_capture_on_commit_callbacks, reason=FailureReason.REFUSED, attempts=1)

    exception = DeliveryException.objects.get()
    assert exception.message == (
        f"{stop.order.merchant_reference}: Failed: refused by the recipient (attempt 1 of 3) — returned to the hub"
    )
    assert exception.severity == "critical"
    assert exception.suggested_actions == ["Return the parcel to the hub", "Tell the merchant why it comes back"]


def test_a_failure_recorded_through_the_order_raises_it_once_after_the_policy(
    route, slots, django_capture_on_commit_callbacks
):
    """A dispatcher failing the order (no driver app): its stop follows, the policy decides, one exception."""
    policy(route, reattempt_same_day=False)
    stop = first_stop(route)
    order = Order.objects.get(pk=stop.order_id)
    order = order_transition(actor=None, order=order, to_status="out_for_delivery")

    with django_capture_on_commit_callbacks(execute=True):
        order_transition(actor=None, order=order, to_status="failed", reason="nobody home")

    assert Stop.objects.get(pk=stop.pk).status == "failed"
    assert list(DeliveryException.objects.values_list("cause", "message")) == [
        (
            f"failed_attempt:stop:{stop.pk}",
            f"{order.merchant_reference}: Failed: no reason given (attempt 0 of 3) — "
            "rescheduled to Wed 2 Dec 10:00–12:00",
        )
    ]


def test_a_redelivered_decision_raises_nothing_more_and_each_failed_stop_raises_its_own(
    route, django_capture_on_commit_callbacks
):
    stop = first_stop(route)
    fail(stop, django_capture_on_commit_callbacks)
    payload = {"stop_id": stop.pk, "order_id": stop.order_id, "organization_id": route.plan.organization_id}

    with django_capture_on_commit_callbacks(execute=True):
        publish_on_commit(FAILURE_POLICY_DECIDED, {**payload, "action": "reattempt_same_day"})
    assert DeliveryException.objects.count() == 1

    reattempt = Stop.objects.get(order_id=stop.order_id, status="planned")
    fail(reattempt, django_capture_on_commit_callbacks, attempts=3)

    assert list(DeliveryException.objects.order_by("id").values_list("cause", "severity")) == [
        (f"failed_attempt:stop:{stop.pk}", "warning"),
        (f"failed_attempt:stop:{reattempt.pk}", "critical"),
    ]
    assert (
        DeliveryException.objects.order_by("id")
        .last()
        .message.endswith("(attempt 3 of 3) — returned to the hub (maximum attempts reached)")
    )


def test_the_customer_left_to_pick_gets_the_slots_at_once(client, route, slots, django_capture_on_commit_callbacks):
    policy(route, reattempt_same_day=False, reschedule_policy="customer_picks")
    stop = first_stop(route)
    fail(stop, django_capture_on_commit_callbacks)
    order = Order.objects.get(pk=stop.order_id)

    page = client.get(f"/t/{order.tracking_token}").content.decode()

    assert "We could not deliver your parcel. Please choose a new delivery time." in page
    assert "Wed 02 Dec 10:00–12:00" in page  # the slot picker, without asking for it
    assert 'data-testid="window"' not in page  # the failed attempt's window is over
    assert "failure policy" not in page  # ops' record stays out of the customer's history


def test_a_customer_who_picked_a_slot_is_not_asked_again(client, route, slots, django_capture_on_commit_callbacks):
    policy(route, reattempt_same_day=False, reschedule_policy="customer_picks")
    stop = first_stop(route)
    fail(stop, django_capture_on_commit_callbacks)
    order = Order.objects.get(pk=stop.order_id)
    value = "2026-12-02T10:00:00+02:00|2026-12-02T12:00:00+02:00"

    moved = client.post(f"/t/{order.tracking_token}", {"action": "reschedule", "slot": value})
    page = client.get(f"/t/{order.tracking_token}").content.decode()

    assert moved.status_code == 302
    assert "Please choose a new delivery time" not in page
    assert "Expected Wednesday 2 December, between 10:00 and 12:00" in page
