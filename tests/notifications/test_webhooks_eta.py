"""order.eta_changed: a periodic scan over the live ETAs announces each stop's ETA once, then
again only when it moved by the debounce, to a real receiver verifying Standard Webhooks."""

import datetime as dt
import zoneinfo

import pytest

from common import clock
from dispatch.models import Hub
from notifications.models import WebhookEvent
from notifications.webhooks.eta import webhook_eta_scan
from notifications.webhooks.services import webhook_endpoint_create
from orders.lifecycle import OrderStatus
from orders.models import Order
from tests.clock import START
from tests.factories.proofs import dispatched_route, driver_for
from tracking.models import StopEta
from tracking.services.eta import customer_window

pytestmark = pytest.mark.django_db
FIRST_ETA = START + dt.timedelta(hours=2, minutes=38)


@pytest.fixture(autouse=True)
def _receivers_on_loopback(settings):
    settings.WAYPOINT_WEBHOOKS_ALLOW_PRIVATE = True
    settings.WAYPOINT_WEBHOOK_ETA_CHANGE_MINUTES = 5


@pytest.fixture
def stop(hub):
    return dispatched_route(hub, driver_for(hub, "acme-driver")).stops.select_related("order").get()


@pytest.fixture
def listening(hub, receiver):
    """An endpoint of the stop's organisation subscribed to order.eta_changed, its secret known to the receiver."""
    endpoint = webhook_endpoint_create(
        organization=hub.organization, url=receiver.url, event_types=["order.eta_changed"]
    )
    receiver.secrets.append(endpoint.secret)
    return endpoint


def eta_moves(stop, eta: dt.datetime) -> None:
    """The live estimate as tracking stores it (tracking.services.eta.etas_update, without a position)."""
    now = clock.now()
    window_start, window_end = customer_window(eta, now=now)
    StopEta.objects.update_or_create(
        stop=stop,
        defaults={
            "eta": eta,
            "window_start": window_start,
            "window_end": window_end,
            "late": False,
            "computed_at": now,
        },
    )


def scan(django_capture_on_commit_callbacks) -> int:
    with django_capture_on_commit_callbacks(execute=True):
        return webhook_eta_scan()


def test_the_first_eta_is_announced_once_in_the_organisations_time_zone(
    hub, stop, listening, receiver, django_capture_on_commit_callbacks
):
    # given
    eta_moves(stop, FIRST_ETA)

    # when: the scan runs twice
    announced = [scan(django_capture_on_commit_callbacks), scan(django_capture_on_commit_callbacks)]

    # then
    assert announced == [1, 0]
    assert [r.verified_with for r in receiver.received] == [[listening.secret]]
    event = receiver.events()[0]
    assert event["type"] == "order.eta_changed"
    assert event["data"]["order"]["id"] == stop.order_id
    assert event["data"]["previous_eta"] is None
    eta = dt.datetime.fromisoformat(event["data"]["eta"])
    assert eta == FIRST_ETA
    assert eta.utcoffset() == FIRST_ETA.astimezone(zoneinfo.ZoneInfo(hub.organization.timezone)).utcoffset()


def test_a_move_under_the_debounce_is_not_announced_and_one_past_it_is_with_the_previous_eta(
    stop, listening, receiver, time_machine, django_capture_on_commit_callbacks
):
    # given: the first ETA was announced
    time_machine.move_to(START, tick=False)
    eta_moves(stop, FIRST_ETA)
    scan(django_capture_on_commit_callbacks)

    # when: it slips 2 minutes, then 6 minutes in all, from the announced one
    time_machine.move_to(START + dt.timedelta(minutes=1), tick=False)
    eta_moves(stop, FIRST_ETA + dt.timedelta(minutes=2))
    after_two = scan(django_capture_on_commit_callbacks)
    time_machine.move_to(START + dt.timedelta(minutes=2), tick=False)
    eta_moves(stop, FIRST_ETA + dt.timedelta(minutes=6))
    after_six = [scan(django_capture_on_commit_callbacks), scan(django_capture_on_commit_callbacks)]

    # then
    assert (after_two, after_six) == (0, [1, 0])
    events = receiver.events()
    assert all(r.verified_with == [listening.secret] for r in receiver.received)
    assert [(e["data"]["previous_eta"], e["data"]["eta"]) for e in events] == [
        (None, events[0]["data"]["eta"]),
        (events[0]["data"]["eta"], events[1]["data"]["eta"]),
    ]
    assert dt.datetime.fromisoformat(events[1]["data"]["eta"]) == FIRST_ETA + dt.timedelta(minutes=6)
    assert dt.datetime.fromisoformat(events[1]["data"]["previous_eta"]) == FIRST_ETA


def test_an_eta_moving_earlier_past_the_debounce_is_announced_too(
    stop, listening, receiver, django_capture_on_commit_callbacks
):
    eta_moves(stop, FIRST_ETA)
    scan(django_capture_on_commit_callbacks)

    eta_moves(stop, FIRST_ETA - dt.timedelta(minutes=5))
    announced = scan(django_capture_on_commit_callbacks)

    assert announced == 1
    assert dt.datetime.fromisoformat(receiver.events()[-1]["data"]["eta"]) == FIRST_ETA - dt.timedelta(minutes=5)


def test_an_organisation_without_an_endpoint_subscribed_to_eta_changes_gets_no_events(
    hub, stop, receiver, other_organization, django_capture_on_commit_callbacks
):
    # given: the stop's organisation listens to deliveries only; another listens to every type
    webhook_endpoint_create(organization=hub.organization, url=receiver.url, event_types=["order.delivered"])
    webhook_endpoint_create(organization=other_organization, url=receiver.url, event_types=[])
    other_hub = Hub.objects.create(
        organization=other_organization, code="tku-1", name="Turku", address="Aurakatu 1", lat=60.45, lng=22.27
    )
    other_stop = dispatched_route(other_hub, driver_for(other_hub, "other-driver")).stops.get()
    eta_moves(stop, FIRST_ETA)
    eta_moves(other_stop, FIRST_ETA)

    # when
    announced = scan(django_capture_on_commit_callbacks)

    # then: only the other organisation's stop
    assert announced == 1
    assert list(WebhookEvent.objects.values_list("organization_id", "order_id")) == [
        (other_organization.pk, other_stop.order_id)
    ]


def test_an_organisation_without_any_subscribed_endpoint_costs_no_event_rows(
    hub, stop, receiver, django_capture_on_commit_callbacks
):
    endpoint = webhook_endpoint_create(organization=hub.organization, url=receiver.url, event_types=[], active=False)
    eta_moves(stop, FIRST_ETA)

    announced = scan(django_capture_on_commit_callbacks)

    assert (announced, WebhookEvent.objects.count(), endpoint.active) == (0, 0, False)
    assert receiver.received == []


@pytest.mark.parametrize("status", [OrderStatus.DELIVERED, OrderStatus.CANCELLED])
def test_a_finished_order_is_not_announced(stop, listening, receiver, status, django_capture_on_commit_callbacks):
    # given: an announced ETA, then the order finishes and its estimate moves on
    eta_moves(stop, FIRST_ETA)
    scan(django_capture_on_commit_callbacks)
    Order.objects.filter(pk=stop.order_id).update(status=status)
    eta_moves(stop, FIRST_ETA + dt.timedelta(minutes=30))

    # when
    announced = scan(django_capture_on_commit_callbacks)

    # then
    assert announced == 0
    assert len(receiver.received) == 1


def test_a_finished_orders_first_eta_is_never_announced(stop, listening, receiver, django_capture_on_commit_callbacks):
    Order.objects.filter(pk=stop.order_id).update(status=OrderStatus.DELIVERED)
    eta_moves(stop, FIRST_ETA)

    assert scan(django_capture_on_commit_callbacks) == 0
    assert WebhookEvent.objects.count() == 0


def test_a_scan_that_read_the_stop_before_another_announced_it_announces_nothing(
    stop, listening, receiver, django_capture_on_commit_callbacks
):
    """Two scans at once: the second read the stop before the first committed its announcement."""
    from notifications.webhooks.eta import _announce

    # given: a scan announced the first ETA, then one past the debounce
    eta_moves(stop, FIRST_ETA)
    scan(django_capture_on_commit_callbacks)
    stale_first = StopEta.objects.select_related("stop__order__hub", "stop__order__organization").get(stop=stop)
    eta_moves(stop, FIRST_ETA + dt.timedelta(minutes=10))
    scan(django_capture_on_commit_callbacks)
    stale_move = StopEta.objects.select_related("stop__order__hub", "stop__order__organization").get(stop=stop)

    # when: the racing scan acts on what it read (nothing announced yet; the first ETA announced)
    with django_capture_on_commit_callbacks(execute=True):
        claimed = [
            _announce(stale_first, previous=None, now=clock.now()),
            _announce(stale_move, previous=FIRST_ETA, now=clock.now()),
        ]

    # then
    assert claimed == [False, False]
    assert WebhookEvent.objects.count() == 2
    assert len(receiver.received) == 2


def test_the_debounce_is_the_setting(stop, listening, receiver, settings, django_capture_on_commit_callbacks):
    settings.WAYPOINT_WEBHOOK_ETA_CHANGE_MINUTES = 10
    eta_moves(stop, FIRST_ETA)
    scan(django_capture_on_commit_callbacks)

    eta_moves(stop, FIRST_ETA + dt.timedelta(minutes=6))
    under = scan(django_capture_on_commit_callbacks)
    eta_moves(stop, FIRST_ETA + dt.timedelta(minutes=10))
    at_it = scan(django_capture_on_commit_callbacks)

    assert (under, at_it) == (0, 1)
    assert len(receiver.received) == 2
