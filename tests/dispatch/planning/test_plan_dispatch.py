"""Dispatching a plan, and the live changes that follow: urgent orders, cancellations, breakdowns."""

import pytest

from common import events
from common.errors import DomainError
from common.events import ORDER_CANCELLED, ORDER_CREATED, PLAN_DISPATCHED, publish_on_commit, subscribe
from common.models import OutboxEvent
from common.tasks import events_deliver_task
from dispatch.models import Plan, PlanUnassigned, Route, Stop
from dispatch.planning.services.live import route_breakdown
from dispatch.planning.services.plans import plan_create, plan_dispatch
from orders.models import Order, OrderEvent
from orders.services import order_cancel
from tests.factories.fleet import DAY, OrderFactory
from tests.factories.orders import order_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(optimized_plan):
    return optimized_plan(parcels=5)


@pytest.fixture
def dispatched(actor, plan, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return plan_dispatch(actor=actor, plan=plan, expected_version=plan.version)


def test_dispatch_moves_orders_and_announces_the_plan(
    actor, hub, plan, django_capture_on_commit_callbacks, monkeypatch
):
    seen = []
    monkeypatch.setitem(events._subscribers, PLAN_DISPATCHED, [])
    subscribe(PLAN_DISPATCHED, seen.append)

    with django_capture_on_commit_callbacks(execute=True):
        result = plan_dispatch(actor=actor, plan=plan, expected_version=plan.version)

    assert result.status == "dispatched"
    assert set(Order.objects.values_list("status", flat=True)) == {"dispatched"}
    assert OrderEvent.objects.filter(kind="order_dispatched", actor=f"user:{actor.user.username}").count() == 6
    expected = {"plan_id": plan.pk, "organization_id": plan.organization_id, "hub_id": hub.pk, "date": "2026-12-01"}
    assert seen == [expected]


@pytest.mark.parametrize(
    ("status", "allowed"),
    [("draft", ["optimizing"]), ("failed", ["optimizing"]), ("dispatched", [])],
    ids=["draft", "failed", "already-dispatched"],
)
def test_dispatch_is_refused_unless_optimized(actor, hub, status, allowed):
    plan = plan_create(actor=actor, hub=hub, date=DAY)
    Plan.objects.filter(pk=plan.pk).update(status=status)

    with pytest.raises(DomainError) as refused:
        plan_dispatch(actor=actor, plan=plan, expected_version=None)

    assert refused.value.code == "invalid_plan_transition"
    assert refused.value.details == {"current": status, "target": "dispatched", "allowed": allowed}
    assert Plan.objects.get(pk=plan.pk).status == status


def test_urgent_order_is_inserted_into_a_live_route(hub, dispatched, django_capture_on_commit_callbacks):
    urgent = OrderFactory(hub=hub, priority=90)
    normal = OrderFactory(hub=hub, priority=10)

    with django_capture_on_commit_callbacks(execute=True):
        publish_on_commit(ORDER_CREATED, {"order_id": urgent.pk, "organization_id": hub.organization_id})
        publish_on_commit(ORDER_CREATED, {"order_id": normal.pk, "organization_id": hub.organization_id})

    stop = Stop.objects.get(order=urgent)
    assert stop.route.plan_id == dispatched.pk
    assert Order.objects.get(pk=urgent.pk).status == "dispatched"
    assert not Stop.objects.filter(order=normal).exists()
    assert Plan.objects.get(pk=dispatched.pk).stop_count == 7
    sequences = list(stop.route.stops.exclude(status="dropped").order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, len(sequences) + 1))


def test_cancelled_order_leaves_its_route_which_is_retimed(actor, dispatched, django_capture_on_commit_callbacks):
    stop = Stop.objects.filter(route__plan=dispatched).order_by("route_id", "sequence").first()
    route = stop.route
    before = route.stops.exclude(status="dropped").count()

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(actor=actor, order=stop.order, reason="customer changed their mind")

    stop.refresh_from_db()
    route.refresh_from_db()
    assert stop.status == "dropped"
    assert route.load_parcels == before - 1
    assert Plan.objects.get(pk=dispatched.pk).stop_count == 5


@pytest.fixture
def tasks_queued():
    """Tasks go to the broker instead of running inline (no worker of this test consumes them)."""
    from config.celery import app

    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True
    app.control.purge()  # a worker of a later test must not pick these up


def test_the_cancel_request_returns_before_its_stop_leaves_the_route(
    merchant_client, dispatched, tasks_queued, django_capture_on_commit_callbacks
):
    """The re-plan is the worker's job: the request only records the cancellation and its event."""
    stop = Stop.objects.filter(route__plan=dispatched).order_by("route_id", "sequence").first()

    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post(f"/api/orders/{stop.order_id}/cancel", {"reason": "moved"}, format="json")

    assert (response.status_code, response.json()["status"]) == (200, "cancelled")
    assert Stop.objects.get(pk=stop.pk).status == "planned"
    event = OutboxEvent.objects.get(name=ORDER_CANCELLED, delivered_at__isnull=True)
    assert event.payload == {
        "order_id": stop.order_id,
        "organization_id": dispatched.organization_id,
        "from": "dispatched",
        "reason": "moved",
    }

    events_deliver_task.apply(args=[[event.pk]])  # what the worker runs

    assert Stop.objects.get(pk=stop.pk).status == "dropped"
    assert Plan.objects.get(pk=dispatched.pk).stop_count == 5


def test_breakdown_moves_remaining_stops_to_other_routes(actor, dispatched):
    broken, other = Route.objects.filter(plan=dispatched).order_by("pk")
    done = broken.stops.order_by("sequence").first()
    Stop.objects.filter(pk=done.pk).update(status="done")
    moving = set(broken.stops.exclude(pk=done.pk).values_list("order_id", flat=True))

    plan = route_breakdown(actor=actor, plan=dispatched, route_id=broken.pk, expected_version=dispatched.version)

    broken.refresh_from_db()
    assert broken.broken_down is True
    assert list(broken.stops.values_list("pk", flat=True)) == [done.pk]
    on_other = set(other.stops.values_list("order_id", flat=True))
    unassigned = set(PlanUnassigned.objects.filter(plan=plan).values_list("order_id", flat=True))
    assert moving <= on_other | unassigned
    assert moving & on_other
    assert plan.version == dispatched.version + 1


def test_breakdown_needs_a_dispatched_plan(actor, plan):
    route = plan.routes.first()

    with pytest.raises(DomainError) as refused:
        route_breakdown(actor=actor, plan=plan, route_id=route.pk, expected_version=None)

    assert refused.value.code == "plan_not_dispatched"
    assert Route.objects.get(pk=route.pk).broken_down is False


def test_urgent_order_created_through_the_api_joins_the_dispatched_plan(
    merchant_client, hub, dispatched, django_capture_on_commit_callbacks
):
    window = [{"start": f"{DAY}T10:00:00+02:00", "end": f"{DAY}T14:00:00+02:00"}]

    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post(
            "/api/orders", order_payload("URGENT-1", priority=95, time_windows=window), format="json"
        )

    assert response.status_code == 201, response.json()
    order = Order.objects.get(merchant_reference="URGENT-1")
    assert order.status == "dispatched"
    assert Stop.objects.get(order=order).route.plan_id == dispatched.pk
    assert [e.to_status for e in order.events.order_by("id")][-2:] == ["planned", "dispatched"]
