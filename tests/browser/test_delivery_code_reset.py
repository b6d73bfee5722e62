"""The tower's order page in Chromium: a dispatcher resets a locked one-time code, the page shows the
tries back at five, and the customer's tracking page shows the new code on reload."""

import pytest
from django.test import Client
from playwright.sync_api import Page, expect

from orders.models import Order, OrderEvent
from tests.factories.fleet import OrderFactory

pytestmark = pytest.mark.django_db(transaction=True)
OLD_CODE = "482913"


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def test_a_dispatcher_resets_a_locked_code_from_the_order_page(asgi_server, page: Page, hub, dispatcher_user):
    order = OrderFactory(
        hub=hub,
        status="arrived",
        proof_of_delivery=["one_time_code"],
        delivery_code=OLD_CODE,
        delivery_code_attempts=5,
    )
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.context.add_cookies([{"name": "sessionid", "value": session_cookie(dispatcher_user), "url": asgi_server}])

    page.goto(f"{asgi_server}/tower/orders/{order.pk}/")
    section = page.get_by_test_id("delivery-code")
    expect(section).to_contain_text("Locked after too many wrong codes.")
    section.get_by_role("button", name="Reset the code").click()

    expect(section).to_contain_text("5 tries left before the code locks.")
    stored = Order.objects.get(pk=order.pk)
    assert stored.delivery_code_attempts == 0
    assert list(OrderEvent.objects.filter(order=order).values_list("kind", flat=True)) == ["delivery_code_reset"]

    customer = page.context.new_page()
    customer.goto(f"{asgi_server}/t/{order.tracking_token}")
    expect(customer.get_by_test_id("delivery-code-value")).to_have_text(stored.delivery_code)
    assert errors == []
