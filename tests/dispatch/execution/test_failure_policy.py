"""The failed-delivery policy: after a stop fails or is skipped, the order is re-attempted later the
same day on its route, rescheduled into the next slot or left to the customer, or returned to the hub."""

import pytest

from accounts.models import Organization
from common.events import STOP_FAILED, publish_on_commit
from dispatch.execution.decisions import FailureAction, failure_decision_list
from dispatch.execution.policy import failure_policy_apply
from dispatch.models import FailureReason, Plan, Route, Stop
from orders.models import Order, OrderEvent
from orders.services import order_transition
from tests.clock import HELSINKI, at
from tests.dispatch.execution.failures import fail, first_stop, now, route  # noqa: F401
from tests.factories.fleet import DAY, SlotTemplateFactory

# Shared fixtures are imported above; pyflakes reads their use as arguments as redefinitions.
# ruff: noqa: F811

pytestmark = pytest.mark.django_db

WEDNESDAY_10_12 = {"start": "2026-12-02T10:00:00+02:00", "end": "2026-12-02T12:00:00+02:00"}
TUESDAY_9_15 = {"start": at(DAY, 9).isoformat(), "end": at(DAY, 15).isoformat()}


def policy(organization, **fields) -> None:
    Organization.objects.filter(pk=organization.pk).update(**fields)


def history(order) -> list[str]:
    return list(OrderEvent.objects.filter(order_id=order.pk).values_list("kind", flat=True))


@pytest.fixture
def slots(hub):
    """The 10–12 slot on weekdays: today's has started, so the next feasible one is Wednesday's."""
    return SlotTemplateFactory(hub=hub)


def test_a_route_that_can_still_take_the_order_gets_it_back_later_today(
    route, slots, django_capture_on_commit_callbacks
):
    stop = first_stop(route)

    fail(stop, django_capture_on_commit_callbacks)

    order = Order.objects.get(pk=stop.order_id)
    new_stop = Stop.objects.get(order=order, status="planned")
    [decision] = failure_decision_list(organization=route.plan.organization, order=order)
    assert order.status == "dispatched"
    assert new_stop.route_id == route.pk
    assert new_stop.planned_arrival >= at(DAY, 11)  # not before the re-attempt's delay
    assert Stop.objects.get(pk=stop.pk).status == "failed"  # kept as history
    assert sorted(route.stops.values_list("sequence", flat=True)) == [1, 2, 3, 4]
    assert history(order)[-5:] == [
        "order_failed",
        "order_rescheduled",
        "order_planned",
        "order_dispatched",
        "failure_policy_decided",
    ]
    assert (decision.action, decision.new_stop_id, decision.stop_id) == (FailureAction.REATTEMPT, new_stop.pk, stop.pk)
    assert decision.summary() == (
        f"Failed: customer not at home (attempt 1 of 3) — re-attempt later today on route {route.pk}, "
        f"about {new_stop.planned_arrival.astimezone(HELSINKI):%H:%M}"
    )
    assert order.time_windows == [TUESDAY_9_15]


def test_a_window_closing_before_the_reattempt_sends_the_order_to_the_next_slot(
    route, slots, django_capture_on_commit_callbacks
):
    stop = first_stop(route)
    Order.objects.filter(pk=stop.order_id).update(window_end=at(DAY, 10, 30))
    version = route.plan.version

    fail(stop, django_capture_on_commit_callbacks)

    order = Order.objects.get(pk=stop.order_id)
    assert (order.status, order.time_windows) == ("rescheduled", [WEDNESDAY_10_12])
    assert not Stop.objects.filter(order=order, status="planned").exists()
    assert [d.action for d in failure_decision_list(organization=order.organization, order=order)] == ["next_slot"]
    assert Plan.objects.get(pk=route.plan_id).version == version  # the plan was not touched


def test_an_order_the_routes_vehicle_cannot_serve_goes_to_the_next_slot(
    route, slots, django_capture_on_commit_callbacks
):
    """The insertion test itself says no (a skill the van lacks): the route and its stops stay as they were."""
    stop = first_stop(route)
    Order.objects.filter(pk=stop.order_id).update(required_skills=["refrigerated"])
    before = list(route.stops.order_by("pk").values_list("pk", "sequence", "planned_arrival"))
    version = route.plan.version

    fail(stop, django_capture_on_commit_callbacks)

    order = Order.objects.get(pk=stop.order_id)
    assert (order.status, order.time_windows) == ("rescheduled", [WEDNESDAY_10_12])
    assert list(route.stops.order_by("pk").values_list("pk", "sequence", "planned_arrival")) == before
    assert Plan.objects.get(pk=route.plan_id).version == version


def test_a_route_whose_shift_has_ended_cannot_take_the_reattempt(route, slots, django_capture_on_commit_callbacks):
    Route.objects.filter(pk=route.pk).update(shift_ended_at=at(DAY, 9, 55))
    stop = first_stop(route)

    fail(stop, django_capture_on_commit_callbacks)

    order = Order.objects.get(pk=stop.order_id)
    assert (order.status, order.time_windows) == ("rescheduled", [WEDNESDAY_10_12])
    assert Stop.objects.filter(order=order).count() == 1


def test_next_slot_when_same_day_reattempts_are_off(route, slots, django_capture_on_commit_callbacks):
    policy(route.plan.organization, reattempt_same_day=False)
    stop = first_stop(route)
    versions = route.plan.version

    fail(stop, django_capture_on_commit_callbacks)

    order = Order.objects.get(pk=stop.order_id)
    [decision] = failure_decision_list(organization=order.organization, order=order)
    assert (order.status, order.time_windows) == ("rescheduled", [WEDNESDAY_10_12])
    assert history(order)[-4:] == ["order_failed", "order_rescheduled", "order_updated", "failure_policy_decided"]
    assert (decision.slot_start, decision.slot_end) == (WEDNESDAY_10_12["start"], WEDNESDAY_10_12["end"])
    assert decision.summary() == "Failed: customer not at home (attempt 1 of 3) — rescheduled to Wed 2 Dec 10:00–12:00"
    assert Plan.objects.get(pk=route.plan_id).version == versions  # the plan was not touched
    assert OrderEvent.objects.get(order=order, kind="failure_policy_decided").reason == decision.summary()


def test_customer_picks_leaves_the_order_rescheduled_for_the_customer(route, django_capture_on_commit_callbacks):
    policy(route.plan.organization, reattempt_same_day=False, reschedule_policy="customer_picks")
    stop = first_stop(route)

    fail(stop, django_capture_on_commit_callbacks)

    order = Order.objects.get(pk=stop.order_id)
    [decision] = failure_decision_list(organization=order.organization, order=order)
    assert (order.status, order.time_windows) == ("rescheduled", [TUESDAY_9_15])
    assert history(order)[-3:] == ["order_failed", "order_rescheduled", "failure_policy_decided"]
    assert decision.summary() == (
        "Failed: customer not at home (attempt 1 of 3) — "
        "rescheduled; the customer picks a new slot on the tracking page"
    )


@pytest.mark.parametrize(
    ("fields", "attempts", "maximum", "cause_text"),
    [
        ({"reschedule_policy": "none", "reattempt_same_day": False}, 1, 3, "the sender does not reschedule"),
        ({}, 3, 3, "maximum attempts reached"),
        ({"reattempt_same_day": False, "max_delivery_attempts": 2}, 2, 2, "maximum attempts reached"),
    ],
    ids=["policy-none", "maximum-of-three", "maximum-of-two"],
)
def test_the_order_is_returned_to_the_hub(
    route, slots, django_capture_on_commit_callbacks, fields, attempts, maximum, cause_text
):
    policy(route.plan.organization, **fields)
    stop = first_stop(route)

    fail(stop, django_capture_on_commit_callbacks, attempts=attempts)

    order = Order.objects.get(pk=stop.order_id)
    [decision] = failure_decision_list(organization=order.organization, order=order)
    assert order.status == "returned"
    assert Stop.objects.filter(order=order).count() == 1
    assert decision.summary() == (
        f"Failed: customer not at home (attempt {attempts} of {maximum}) — returned to the hub ({cause_text})"
    )
    returned = OrderEvent.objects.get(order=order, kind="order_returned")
    assert (returned.actor, returned.reason) == ("system", decision.summary())


def test_no_feasible_slot_returns_the_order(route, django_capture_on_commit_callbacks):
    policy(route.plan.organization, reattempt_same_day=False)
    stop = first_stop(route)

    fail(stop, django_capture_on_commit_callbacks)

    order = Order.objects.get(pk=stop.order_id)
    [decision] = failure_decision_list(organization=order.organization, order=order)
    assert order.status == "returned"
    assert decision.summary().endswith("— returned to the hub (no feasible slot in the next days)")


@pytest.mark.parametrize(
    ("reason", "label"),
    [(FailureReason.REFUSED, "refused by the recipient"), (FailureReason.DAMAGED, "parcel damaged")],
    ids=["refused", "damaged"],
)
def test_a_refused_or_damaged_parcel_goes_back_at_once(route, slots, django_capture_on_commit_callbacks, reason, label):
    stop = first_stop(route)

    fail(stop, django_capture_on_commit_callbacks, reason=reason)

    order = Order.objects.get(pk=stop.order_id)
    [decision] = failure_decision_list(organization=order.organization, order=order)
    assert order.status == "returned"
    assert decision.summary() == f"Failed: {label} (attempt 1 of 3) — returned to the hub"


def test_a_skipped_stop_is_decided_without_counting_an_attempt(route, slots, django_capture_on_commit_callbacks):
    stop = first_stop(route)

    fail(stop, django_capture_on_commit_callbacks, status="skipped", reason=FailureReason.OUT_OF_TIME, attempts=0)

    order = Order.objects.get(pk=stop.order_id)
    [decision] = failure_decision_list(organization=order.organization, order=order)
    assert (order.status, order.delivery_attempts, order.time_windows) == ("rescheduled", 0, [WEDNESDAY_10_12])
    # Out of time: the same route cannot take it later today, so no re-attempt was tried.
    assert decision.summary() == "Skipped: out of time (0 of 3 attempts made) — rescheduled to Wed 2 Dec 10:00–12:00"


def test_a_redelivered_event_decides_nothing_again(route, slots, django_capture_on_commit_callbacks):
    stop = first_stop(route)
    fail(stop, django_capture_on_commit_callbacks)
    order = Order.objects.get(pk=stop.order_id)
    [first] = failure_decision_list(organization=order.organization, order=order)
    events, stops = OrderEvent.objects.count(), Stop.objects.count()

    with django_capture_on_commit_callbacks(execute=True):
        publish_on_commit(
            STOP_FAILED, {"stop_id": stop.pk, "route_id": route.pk, "order_id": order.pk, "from": "planned"}
        )
    again = failure_policy_apply(stop_id=stop.pk)

    assert again == first
    assert (OrderEvent.objects.count(), Stop.objects.count()) == (events, stops)
    assert Order.objects.get(pk=order.pk).status == "dispatched"


def test_each_failed_stop_gets_its_own_decision(route, slots, django_capture_on_commit_callbacks):
    stop = first_stop(route)
    fail(stop, django_capture_on_commit_callbacks)
    order = Order.objects.get(pk=stop.order_id)
    reattempt = Stop.objects.get(order=order, status="planned")

    fail(reattempt, django_capture_on_commit_callbacks, attempts=2)

    first, second = failure_decision_list(organization=order.organization, order=order)
    assert (first.stop_id, first.action) == (stop.pk, "reattempt_same_day")
    # The second re-attempt would come after 11:00 too; with attempts left the route takes it again.
    assert (second.stop_id, second.attempts, second.action) == (reattempt.pk, 2, "reattempt_same_day")
    assert Stop.objects.filter(order=order).count() == 3


def test_an_order_ops_moved_before_the_policy_ran_is_left_alone(route, slots, django_capture_on_commit_callbacks):
    stop = first_stop(route)
    order = Order.objects.get(pk=stop.order_id)
    for target in ("out_for_delivery", "failed", "returned"):
        order = order_transition(actor=None, order=order, to_status=target)
    Stop.objects.filter(pk=stop.pk).update(status="failed")
    events = OrderEvent.objects.count()

    assert failure_policy_apply(stop_id=stop.pk) is None
    assert OrderEvent.objects.count() == events
    assert Order.objects.get(pk=order.pk).status == "returned"


def test_a_stop_neither_failed_nor_skipped_has_nothing_to_decide(route):
    stop = first_stop(route)
    events = OrderEvent.objects.count()

    assert failure_policy_apply(stop_id=stop.pk) is None
    assert failure_policy_apply(stop_id=stop.pk + 1000) is None
    assert OrderEvent.objects.count() == events


def test_the_reattempt_keeps_the_other_stops_on_the_route(route, slots, django_capture_on_commit_callbacks):
    stop = first_stop(route)
    others = set(route.stops.exclude(pk=stop.pk).values_list("pk", flat=True))

    fail(stop, django_capture_on_commit_callbacks)

    planned = route.stops.filter(status="planned")
    assert set(planned.exclude(order_id=stop.order_id).values_list("pk", flat=True)) == others
    assert all(s.planned_arrival >= at(DAY, 10) for s in planned)
