"""Messages that follow the live ETA: one "delayed" per order per slip, one "arriving soon" per stop."""

import pytest
from django.core import mail

from dispatch.models import Plan, PlanStatus, Route, Stop, Vehicle
from notifications.models import Message, NotificationSettings
from notifications.tasks import arriving_soon_scan_task
from orders.models import Order
from tests.notifications.conftest import EMAIL, PHONE
from tests.tracking.conftest import DAY, eta_refresh, local, make_order
from tracking.models import DeliveryException, LatestPosition, StopEta

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_route(organization, hub, driver):
    """Today's dispatched van route: stops A and B about 1.1 km and 2.2 km north of the hub, windows 10–12."""
    vehicle = Vehicle.objects.create(organization=organization, name="Van 1", type="van", home_hub=hub)
    plan = Plan.objects.create(organization=organization, hub=hub, date=DAY, status=PlanStatus.DISPATCHED)
    route = Route.objects.create(plan=plan, vehicle=vehicle, driver=driver, start_time=local(8, 30), end_time=local(11))
    for sequence, (reference, lat) in enumerate([("A", 60.1799), ("B", 60.1899)], start=1):
        order = make_order(organization, hub, reference, lat, hub.lng)
        Order.objects.filter(pk=order.pk).update(customer_email=EMAIL, customer_phone=PHONE)
        Stop.objects.create(
            route=route,
            order=order,
            sequence=sequence,
            planned_arrival=local(10, 10 * sequence),
            planned_departure=local(10, 10 * sequence + 5),
        )
    return route


def position(driver, lat, lng, when, time_machine):
    time_machine.move_to(when, tick=False)
    LatestPosition.objects.update_or_create(
        driver=driver, defaults={"organization_id": driver.organization_id, "recorded_at": when, "lat": lat, "lng": lng}
    )
    eta_refresh(driver=driver, at=when)


def test_a_driver_pushed_late_sends_one_delayed_message_per_order_however_many_positions(
    live_route, driver, time_machine, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for minute in range(30, 36):  # six late positions, ~30 km away with half an hour of window left
            position(driver, 60.45 - minute / 1000, 24.94, local(11, minute), time_machine)

    assert DeliveryException.objects.filter(kind="late_risk").count() == 2
    delayed = Message.objects.filter(kind="delayed", channel="email")
    assert sorted(delayed.values_list("order__merchant_reference", "status")) == [("A", "sent"), ("B", "sent")]
    assert Message.objects.filter(kind="delayed", channel="sms").count() == 2
    body = delayed.get(order__merchant_reference="A").body
    assert "will not make it within 10:00–12:00" in body
    assert "The driver now expects to reach you between" in body


def test_a_second_slip_after_the_first_was_resolved_sends_a_second_delayed(
    live_route, driver, hub, time_machine, django_capture_on_commit_callbacks
):
    from tracking.services.exceptions import exception_transition

    with django_capture_on_commit_callbacks(execute=True):
        position(driver, 60.45, 24.94, local(11, 0), time_machine)
    for exception in DeliveryException.objects.filter(kind="late_risk", order__merchant_reference="A"):
        exception_transition(actor=None, exception=exception, to_status="resolved", note="customer called")
    # Tracking re-arms a resolved cause after 30 minutes: the driver catches up, then slips again.
    with django_capture_on_commit_callbacks(execute=True):
        position(driver, hub.lat, hub.lng, local(11, 31), time_machine)
        position(driver, 60.45, 24.94, local(11, 33), time_machine)

    counts = {
        reference: Message.objects.filter(kind="delayed", channel="email", order__merchant_reference=reference).count()
        for reference in ("A", "B")
    }
    assert counts == {"A": 2, "B": 1}


def test_arriving_soon_goes_once_per_stop_when_its_eta_is_n_minutes_away(
    live_route, driver, hub, time_machine, django_capture_on_commit_callbacks
):
    # given: the driver at the hub at 10:00: A is a few minutes away, B over ten
    position(driver, hub.lat, hub.lng, local(10, 0), time_machine)

    with django_capture_on_commit_callbacks(execute=True):
        arriving_soon_scan_task()
        arriving_soon_scan_task()

    soon = Message.objects.filter(kind="arriving_soon", channel="email")
    assert list(soon.values_list("order__merchant_reference", "status")) == [("A", "sent")]
    eta = StopEta.objects.get(stop__order__merchant_reference="A").eta
    minutes = round((eta - local(10, 0)).total_seconds() / 60)
    assert f"arrives in about {minutes} minutes, around {eta.astimezone(hub.tz):%H:%M}" in soon.get().body

    # when: five minutes later B is within ten minutes too
    position(driver, 60.1799, hub.lng, local(10, 5), time_machine)
    with django_capture_on_commit_callbacks(execute=True):
        arriving_soon_scan_task()

    assert sorted(soon.values_list("order__merchant_reference", flat=True)) == ["A", "B"]
    assert len([m for m in mail.outbox if "arrives in about" in m.subject]) == 2


def test_arriving_soon_follows_the_organisations_lead_time(
    organization, live_route, driver, hub, time_machine, django_capture_on_commit_callbacks
):
    NotificationSettings.objects.create(organization=organization, arriving_soon_minutes=3)
    position(driver, hub.lat, hub.lng, local(10, 0), time_machine)

    with django_capture_on_commit_callbacks(execute=True):
        assert arriving_soon_scan_task() == 0

    assert Message.objects.filter(kind="arriving_soon").count() == 0
