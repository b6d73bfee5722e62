import datetime as dt

import pytest

from accounts.tenancy import Actor
from common.errors import ConflictError
from dispatch.models import PlanUnassigned
from orders.models import Order
from tests.factories.orders import order_payload
from tests.tracking.conftest import local
from tracking.handlers import on_plan_optimized
from tracking.models import DeliveryException, DriverPosition, ExceptionEvent, LatestPosition
from tracking.selectors.tower import exception_list_open
from tracking.services.exceptions import (
    exception_acknowledge,
    exception_assign,
    exception_raise,
    exception_resolve,
)
from tracking.services.monitoring import detect_silent_and_idle_drivers, distance_to_leg_m

pytestmark = pytest.mark.django_db


def raise_one(organization, cause="late_risk:stop:1"):
    return exception_raise(organization=organization, kind="late_risk", cause=cause, message="Late")


def test_a_cause_is_raised_once_while_open(organization):
    first = raise_one(organization)

    assert raise_one(organization) is None
    assert DeliveryException.objects.count() == 1
    assert list(ExceptionEvent.objects.values_list("kind", flat=True)) == ["raised"]
    assert first.suggested_actions[0] == "Call the customer to agree a new time"


def test_acknowledge_assign_resolve_keep_a_history(organization, dispatcher_user):
    actor = Actor(organization=organization, user=dispatcher_user)
    exception = raise_one(organization)

    exception_acknowledge(actor=actor, exception=exception, note="calling")
    exception_assign(actor=actor, exception=exception, user=dispatcher_user)
    resolved = exception_resolve(actor=actor, exception=exception, note="customer agreed 15:00")

    assert resolved.status == "resolved"
    history = list(ExceptionEvent.objects.filter(exception=exception).values_list("kind", "actor", "note"))
    assert history == [
        ("raised", "system", "Late"),
        ("acknowledged", "user:acme-dispatcher", "calling"),
        ("assigned", "user:acme-dispatcher", "assigned to acme-dispatcher"),
        ("resolved", "user:acme-dispatcher", "customer agreed 15:00"),
    ]
    assert list(exception_list_open(organization=organization)) == []


def test_a_resolved_exception_cannot_be_resolved_again(organization, dispatcher_user):
    actor = Actor(organization=organization, user=dispatcher_user)
    exception = exception_resolve(actor=actor, exception=raise_one(organization), note="done")

    with pytest.raises(ConflictError, match="An exception that is resolved cannot become resolved."):
        exception_resolve(actor=actor, exception=exception, note="again")


def test_a_resolved_cause_rearms_only_after_30_minutes(organization, dispatcher_user):
    actor = Actor(organization=organization, user=dispatcher_user)
    exception_resolve(actor=actor, exception=raise_one(organization), note="ok")

    assert raise_one(organization) is None
    DeliveryException.objects.update(resolved_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=31))
    assert raise_one(organization) is not None


def test_failed_delivery_raises_an_exception(merchant_client, hub, django_capture_on_commit_callbacks):
    order_id = merchant_client.post("/api/orders", order_payload("SO-F"), format="json").json()["id"]
    Order.objects.filter(pk=order_id).update(status="arrived")

    with django_capture_on_commit_callbacks(execute=True):
        from orders.services import order_transition

        order_transition(actor=None, order=Order.objects.get(pk=order_id), to_status="failed", reason="nobody home")

    exception = DeliveryException.objects.get(kind="failed_attempt")
    assert exception.message == "Delivery of SO-F failed: nobody home."
    assert exception.severity == "critical"


def test_flagged_address_raises_an_info_exception(merchant_client, hub, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        merchant_client.post(
            "/api/orders",
            order_payload("SO-FAR", address={"text": "Tampere", "lat": 61.49, "lng": 23.76}),
            format="json",
        )

    exception = DeliveryException.objects.get(kind="address_issue")
    assert exception.message == "SO-FAR: The address is outside the service area of hub 'hel-1'."


def test_silent_driver_on_an_active_route_is_flagged_once(route, driver):
    route.start_time, route.end_time = local(9), local(13)
    route.save()

    assert detect_silent_and_idle_drivers(now=local(10)) == 1
    assert detect_silent_and_idle_drivers(now=local(10, 5)) == 0
    assert DeliveryException.objects.get().kind == "no_position"


def test_driver_standing_still_away_from_stops_is_idle(route, driver, hub):
    route.start_time, route.end_time = local(9), local(13)
    route.save()
    for minute in range(0, 21, 2):
        DriverPosition.objects.create(
            organization=driver.organization, driver=driver, recorded_at=local(10, minute), lat=60.1650, lng=24.9000
        )
    LatestPosition.objects.create(
        driver=driver, organization=driver.organization, recorded_at=local(10, 20), lat=60.1650, lng=24.9000
    )

    assert detect_silent_and_idle_drivers(now=local(10, 21)) == 1
    assert DeliveryException.objects.get().kind == "driver_idle"


def test_moving_driver_is_not_idle(route, driver):
    route.start_time, route.end_time = local(9), local(13)
    route.save()
    for minute in range(0, 21, 2):
        DriverPosition.objects.create(
            organization=driver.organization,
            driver=driver,
            recorded_at=local(10, minute),
            lat=60.1650 + minute * 0.001,
            lng=24.9000,
        )
    LatestPosition.objects.create(
        driver=driver, organization=driver.organization, recorded_at=local(10, 20), lat=60.185, lng=24.9000
    )

    assert detect_silent_and_idle_drivers(now=local(10, 21)) == 0


def test_off_route_position_raises_an_exception(route, driver, hub):
    from tests.tracking.conftest import eta_refresh

    LatestPosition.objects.create(
        driver=driver, organization=driver.organization, recorded_at=local(10), lat=hub.lat, lng=hub.lng + 0.1
    )  # ~5.5 km east of the northbound leg
    eta_refresh(driver=driver, at=local(10))

    exception = DeliveryException.objects.get(kind="off_route")
    assert exception.message.startswith("Mikko Nieminen is 5.")


def test_distance_to_leg():
    assert distance_to_leg_m((60.17, 24.95), (60.17, 24.95), (60.18, 24.95)) == 0
    assert round(distance_to_leg_m((60.175, 24.96), (60.17, 24.95), (60.18, 24.95))) == 554


def test_capacity_overflow_after_planning(route, organization):
    order = route.stops.first().order
    PlanUnassigned.objects.create(plan=route.plan, order=order, reason="capacity", message="too big")

    on_plan_optimized({"plan_id": route.plan_id})

    assert DeliveryException.objects.get().message == "1 orders of the 2026-11-30 plan do not fit the fleet's capacity."
