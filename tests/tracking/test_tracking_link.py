"""A tracking link expires after its order ended, and shows the driver's point only near the stop."""

# The route fixtures are shared with the socket tests by import, which ruff reads as redefinitions.
# ruff: noqa: F811

import datetime as dt

import pytest
from channels.db import database_sync_to_async

from orders.models import Order
from orders.services import order_transition
from tests.tracking.test_consumers import (  # noqa: F401 (fixtures shared with the socket tests)
    communicator,
    connected,
    drain,
    live_route,
    memory_layer,
    orders,
    position,
)

TTL = dt.timedelta(hours=72)
PATHS = {
    "delivered": ["out_for_delivery", "arrived", "delivered"],
    "failed": ["out_for_delivery", "failed"],
    "returned": ["out_for_delivery", "failed", "returned"],
    "cancelled": ["cancelled"],
}


def end(order, final: str) -> dt.datetime:
    """Move `order` to `final`; returns when it got there (as its history records it)."""
    for status in (
        PATHS[final][PATHS[final].index(order.status) + 1 :] if order.status in PATHS[final] else PATHS[final]
    ):
        order_transition(actor=None, order=order, to_status=status)
    return order.events.filter(to_status=final).get().at


@pytest.mark.django_db
@pytest.mark.parametrize("final", list(PATHS))
def test_the_link_answers_410_once_the_ttl_after_the_end_has_passed(client, route, time_machine, final):
    order = route.stops.get(sequence=1).order
    ended = end(order, final)
    url = f"/t/{order.tracking_token}"

    time_machine.move_to(ended + TTL - dt.timedelta(seconds=1), tick=False)
    before = client.get(url)
    time_machine.move_to(ended + TTL, tick=False)
    after = client.get(url)
    posted = client.post(url, {"action": "instructions", "instructions": "Leave at the door"})

    assert before.status_code == 200
    assert after.status_code == 410
    page = after.content.decode()
    assert "This tracking link has expired" in page
    assert "Acme Deliveries" in page
    assert 'name="viewport"' in page  # readable on a phone
    assert order.customer_name not in page
    assert order.address_text not in page
    assert posted.status_code == 410
    order.refresh_from_db()
    assert order.instructions == ""


@pytest.mark.django_db
def test_an_order_still_under_way_keeps_its_link(client, route, time_machine):
    order = route.stops.get(sequence=1).order
    time_machine.move_to(order.created_at + dt.timedelta(days=30), tick=False)

    assert client.get(f"/t/{order.tracking_token}").status_code == 200


@pytest.mark.django_db
def test_the_ttl_is_configurable(client, route, time_machine, settings):
    settings.WAYPOINT_TRACKING_LINK_TTL_HOURS = 1
    order = route.stops.get(sequence=1).order
    ended = end(order, "delivered")

    time_machine.move_to(ended + dt.timedelta(hours=1), tick=False)

    assert client.get(f"/t/{order.tracking_token}").status_code == 410


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_socket_of_an_expired_link_is_refused(memory_layer, live_route, orders, time_machine):
    order = orders["A"]
    ended = await database_sync_to_async(end)(order, "delivered")
    time_machine.move_to(ended + TTL, tick=False)
    comm = await database_sync_to_async(communicator)(f"/ws/track/{order.tracking_token}/")

    accepted, code = await comm.connect(timeout=5)

    assert (accepted, code) == (False, 4404)  # the page's script stops reconnecting on 4404


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_customer_sees_the_driver_only_within_the_radius_of_their_stop(
    memory_layer, live_route, orders, driver_user
):
    """Heading to A from 2.5 km away: A's page gets the ETA only; 500 m away, it gets the driver."""
    order_a = await database_sync_to_async(Order.objects.get)(pk=orders["A"].pk)
    page_a, _ = await connected(f"/ws/track/{order_a.tracking_token}/")
    phone, _ = await connected("/ws/driver/", driver_user)

    await phone.send_json_to(position(lat=60.1574, seconds_ago=10))  # 2.5 km south of A
    await phone.receive_json_from(timeout=5)
    far = await drain(page_a)
    _again, far_snapshot = await connected(f"/ws/track/{order_a.tracking_token}/")
    await phone.send_json_to(position(lat=60.1749))  # 0.5 km from A
    await phone.receive_json_from(timeout=5)
    near = await drain(page_a)
    _later, near_snapshot = await connected(f"/ws/track/{order_a.tracking_token}/")

    assert [m["type"] for m in far] == ["eta.changed"]
    assert far_snapshot["driver"] is None
    assert far_snapshot["eta_window_start"] is not None
    assert [m["lat"] for m in near if m["type"] == "driver.position"] == [60.1749]
    assert near_snapshot["driver"]["lat"] == 60.1749
    for comm in (page_a, phone, _again, _later):
        await comm.disconnect()
