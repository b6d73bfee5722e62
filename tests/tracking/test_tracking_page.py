import pytest

from orders.models import Order, OrderEvent
from tests.factories.orders import order_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(merchant_client, hub):
    body = order_payload("SO-T1", customer={"name": "Aino Virtanen", "phone": "+358401234567"})
    return Order.objects.get(pk=merchant_client.post("/api/orders", body, format="json").json()["id"])


def test_the_page_shows_this_order_and_its_window_in_local_time(client, order):
    page = client.get(f"/t/{order.tracking_token}").content.decode()

    assert "Delivery from <strong>Acme Deliveries</strong> · SO-T1" in page
    day = order.window_start.astimezone(order.hub.tz)
    assert "between 10:00 and 12:00" in page
    assert day.strftime("%A") in page
    assert 'data-testid="status">Order received<' in page


def test_the_page_never_shows_the_customers_phone_or_other_orders(client, merchant_client, order):
    merchant_client.post("/api/orders", order_payload("SO-OTHER", customer={"name": "Eero Secret"}), format="json")

    page = client.get(f"/t/{order.tracking_token}").content.decode()

    assert "+358401234567" not in page
    assert "SO-OTHER" not in page
    assert "Eero Secret" not in page


def test_unknown_token_is_404(client, order):
    assert client.get("/t/not-a-real-token").status_code == 404


def test_customer_sets_instructions_and_it_is_recorded(client, order):
    response = client.post(f"/t/{order.tracking_token}", {"action": "instructions", "instructions": "Door code 1234"})

    assert response.status_code == 302
    assert Order.objects.get(pk=order.pk).instructions == "Door code 1234"
    event = OrderEvent.objects.filter(order=order).latest("id")
    assert (event.kind, event.actor, event.details) == (
        "instructions_updated",
        "customer",
        {"instructions": "Door code 1234"},
    )


def test_customer_chooses_a_safe_place(client, order):
    client.post(
        f"/t/{order.tracking_token}",
        {"action": "alternative", "alternative": "safe_place", "detail": "Behind the shed"},
    )

    saved = Order.objects.get(pk=order.pk)
    assert (saved.delivery_alternative, saved.delivery_alternative_detail) == ("safe_place", "Behind the shed")
    assert (
        "Your choice: Leave in a safe place (Behind the shed)"
        in client.get(f"/t/{order.tracking_token}").content.decode()
    )


def test_alternatives_are_refused_when_the_sender_does_not_offer_them(client, order):
    order.organization.allow_delivery_alternatives = False
    order.organization.save()

    response = client.post(
        f"/t/{order.tracking_token}", {"action": "alternative", "alternative": "neighbour"}, follow=True
    )

    assert "This sender does not offer delivery alternatives." in response.content.decode()
    assert Order.objects.get(pk=order.pk).delivery_alternative == ""


def test_invalid_choice_shows_the_form_error_and_changes_nothing(client, order):
    response = client.post(f"/t/{order.tracking_token}", {"action": "alternative", "alternative": "drone"})

    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    assert Order.objects.get(pk=order.pk).delivery_alternative == ""


def test_rating_only_after_delivery_and_only_once(client, order):
    early = client.post(f"/t/{order.tracking_token}", {"action": "rating", "rating": "5"}, follow=True)
    Order.objects.filter(pk=order.pk).update(status="delivered")
    client.post(f"/t/{order.tracking_token}", {"action": "rating", "rating": "4", "comment": "Quick"})
    again = client.post(f"/t/{order.tracking_token}", {"action": "rating", "rating": "1"}, follow=True)

    assert "A delivery can be rated once it has been delivered." in early.content.decode()
    assert (Order.objects.get(pk=order.pk).rating, Order.objects.get(pk=order.pk).rating_comment) == (4, "Quick")
    assert "This delivery has already been rated." in again.content.decode()


def test_instructions_cannot_change_after_delivery(client, order):
    Order.objects.filter(pk=order.pk).update(status="delivered", instructions="old")

    client.post(f"/t/{order.tracking_token}", {"action": "instructions", "instructions": "new"})

    assert Order.objects.get(pk=order.pk).instructions == "old"
