"""What an order requires at the door: its own proofs, else its organization's default, plus cash."""

from decimal import Decimal

import pytest

from orders.models import Order
from orders.proofs import required_proofs
from tests.factories.fleet import OrderFactory
from tests.factories.orders import order_payload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("own", "default", "cash", "expected"),
    [
        pytest.param([], [], None, [], id="nothing"),
        pytest.param(["photo", "signature"], [], None, ["signature", "photo"], id="own-in-canonical-order"),
        pytest.param([], ["one_time_code", "recipient_name"], None, ["one_time_code", "recipient_name"], id="default"),
        pytest.param(["photo"], ["signature", "recipient_name"], None, ["photo"], id="own-wins-over-default"),
        pytest.param([], ["signature", "fingerprint"], None, ["signature"], id="unknown-default-entry-ignored"),
        pytest.param(["signature"], [], Decimal("25.50"), ["signature", "cash"], id="cash-to-collect"),
        pytest.param([], [], Decimal("0.00"), [], id="nothing-to-collect"),
    ],
)
def test_required_proofs(organization, hub, own, default, cash, expected):
    organization.proof_of_delivery_default = default
    organization.save()
    order = OrderFactory(hub=hub, proof_of_delivery=own, cash_on_delivery=cash)

    assert required_proofs(Order.objects.get(pk=order.pk)) == expected


def test_the_order_api_shows_the_access_code_and_the_effective_requirements(merchant_client, organization, hub):
    organization.proof_of_delivery_default = ["signature"]
    organization.save()

    created = merchant_client.post(
        "/api/orders", order_payload("SO-P1", access_code="B 4721", cash_on_delivery="10.00"), format="json"
    )
    read = merchant_client.get(f"/api/orders/{created.json()['id']}")

    assert created.status_code == 201
    body = read.json()
    assert (body["access_code"], body["proof_of_delivery"], body["proofs_required"]) == (
        "B 4721",
        [],
        ["signature", "cash"],
    )
    assert Order.objects.get(pk=body["id"]).access_code == "B 4721"


def test_a_changed_default_applies_to_orders_that_named_none(merchant_client, organization, hub):
    created = merchant_client.post("/api/orders", order_payload("SO-P2"), format="json").json()
    assert created["proofs_required"] == []

    organization.proof_of_delivery_default = ["photo"]
    organization.save()

    assert merchant_client.get(f"/api/orders/{created['id']}").json()["proofs_required"] == ["photo"]
