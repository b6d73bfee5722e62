"""Issue 14 in a real browser: a customer follows the links of the message they got and opts out,
ops read the message log, and an admin registers a webhook receiver that verifies what arrives."""

import re

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from accounts.tenancy import Actor
from dispatch.execution.services import stops as execution
from tests.clock import START, TODAY, at
from tests.factories.fleet import DriverFactory, OrderFactory, PlanFactory, RouteFactory, StopFactory
from tests.factories.orders import order_payload
from tests.notifications.webhooks_receiver import Receiver
from tests.workers import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

EMAIL = "aino@example.fi"


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw-12345!")
    page.get_by_role("button", name="Sign in").click()


def link_in(body: str, path: str) -> str:
    return next(word for word in body.split() if path in word)


@pytest.fixture
def two_stops_setting_out(hub, driver_user, live_server, settings):
    """Two orders of a driver's route of today, their customers with email and phone; the driver
    starts the shift, so both customers are told their delivery is on its way."""
    settings.WAYPOINT_PUBLIC_URL = live_server.url
    settings.WAYPOINT_SMS_PROVIDER = "console"
    driver = DriverFactory(home_hub=hub, user=driver_user, name="Mikko Lahti")
    route = RouteFactory(hub=hub, plan=PlanFactory(hub=hub, date=TODAY, status="dispatched"), driver=driver)
    stops = []
    for sequence, email in ((1, EMAIL), (2, "eero@example.fi")):
        order = OrderFactory(
            hub=hub,
            status="dispatched",
            customer_name="Aino Virtanen" if sequence == 1 else "Eero Laine",
            customer_email=email,
            customer_phone=f"+35840123456{sequence}",
            delivery_date=TODAY,
            window_start=at(TODAY, 10),
            window_end=at(TODAY, 12),
            time_windows=[{"start": at(TODAY, 10).isoformat(), "end": at(TODAY, 12).isoformat()}],
        )
        stops.append(
            StopFactory(
                route=route,
                order=order,
                sequence=sequence,
                planned_arrival=at(TODAY, 9 + sequence),
                planned_departure=at(TODAY, 9 + sequence, 5),
            )
        )
    execution.shift_start(actor=Actor(organization=hub.organization, user=driver_user), route=route, at=START)
    return stops


def test_a_customer_follows_the_message_links_and_opts_out_and_ops_see_it_in_the_logs(
    page: Page, live_server, two_stops_setting_out, dispatcher_user
):
    first, second = two_stops_setting_out
    [email] = [message for message in mail.outbox if message.to == [EMAIL]]

    # when the customer opens the tracking link of the "on its way" email
    page.goto(link_in(email.body, "/t/"))
    # then the page is their delivery's
    expect(page.get_by_text(first.order.merchant_reference).first).to_be_visible()

    # when they open the email's unsubscribe link and confirm
    page.goto(link_in(email.body, "/notifications/unsubscribe/"))
    expect(page.get_by_text(f"Stop delivery messages by Email to {EMAIL}?")).to_be_visible()
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_test_id("unsubscribed")).to_have_text("You are unsubscribed")

    # and both parcels are delivered: only the customer who stayed subscribed gets the email
    driver = first.route.driver
    actor = Actor(organization=driver.organization, user=driver.user)
    for stop in (first, second):
        execution.stop_complete(actor=actor, stop=stop, at=START, driver=driver, recipient_name="At the door")
    assert [message.to for message in mail.outbox if "delivered" in message.subject.lower()] == [["eero@example.fi"]]

    # then a dispatcher finds the messages in the log, filtered to cancellations by email
    page.context.clear_cookies()
    sign_in(page, live_server.url, dispatcher_user.username)
    page.get_by_role("link", name="Messages").click()
    page.get_by_label("Kind").select_option(label="Delivered")
    page.get_by_label("Channel").select_option("email")
    page.get_by_role("button", name="Filter").click()
    rows = page.get_by_test_id("message-row")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text=EMAIL)).to_contain_text("suppressed")
    expect(rows.filter(has_text="eero@example.fi")).to_contain_text("sent")

    # and the first order's page in the tower lists its own messages, the opt-out among them
    rows.filter(has_text=EMAIL).get_by_role("link", name=first.order.merchant_reference, exact=True).click()
    messages = page.get_by_test_id("order-message")
    expect(messages.filter(has_text="Out for delivery").filter(has_text=EMAIL)).to_contain_text("sent")
    expect(messages.filter(has_text="Delivered").filter(has_text=EMAIL)).to_contain_text("suppressed")


def test_an_admin_registers_a_receiver_that_verifies_a_test_event_and_an_order(
    page: Page, live_server, admin_user, merchant_client, hub, settings
):
    settings.WAYPOINT_WEBHOOKS_ALLOW_PRIVATE = True  # the receiver listens on loopback
    receiver = Receiver().start()
    try:
        # given an admin on the Webhooks page
        sign_in(page, live_server.url, admin_user.username)
        page.get_by_role("link", name="Webhooks").click()

        # when they add the receiver's URL, and the secret shown once goes to the receiver
        page.get_by_label("URL").fill(receiver.url)
        page.get_by_label("Description").fill("Shop backend")
        page.get_by_role("button", name="Add endpoint").click()
        secret = page.get_by_test_id("new-secret").inner_text().strip()
        assert re.fullmatch(r"whsec_[A-Za-z0-9+/=]+", secret)
        receiver.secrets.append(secret)
        page.get_by_role("button", name="Send test event").click()
        # and a merchant creates an order through the API
        merchant_client.post("/api/orders", order_payload("SO-HOOK"), format="json")

        # then both requests arrived, each verified by the reference library with that secret
        assert wait_for(lambda: len(receiver.received) == 2)
        assert [r.verified_with for r in receiver.received] == [[secret], [secret]]
        assert sorted(r.event["type"] for r in receiver.received) == ["order.created", "webhook.test"]

        # and the page's delivery log shows each event delivered
        page.reload()
        expect(page.get_by_test_id("new-secret")).to_have_count(0)
        for request in receiver.received:
            expect(page.get_by_text(request.headers["webhook-id"])).to_be_visible()
        expect(page.get_by_text("delivered").first).to_be_visible()
    finally:
        receiver.stop()
