"""The customer's one-time code: made at dispatch, checked at the door, locked after five wrong tries."""

import datetime as dt

import pytest

from dispatch.execution.services import stops as execution
from orders.errors import DeliveryCodeLocked, DeliveryCodeWrong
from orders.models import Order
from orders.services import order_delivery_code_check, order_transition
from tests.clock import START
from tests.factories.fleet import OrderFactory

pytestmark = pytest.mark.django_db
AT = START + dt.timedelta(minutes=30)


@pytest.mark.parametrize(
    ("order_proofs", "default", "made"),
    [
        (["one_time_code"], [], True),
        ([], ["one_time_code"], True),
        (["signature"], ["one_time_code"], False),
        ([], [], False),
    ],
    ids=["order-asks", "organization-default", "order-overrides-default", "none"],
)
def test_a_code_is_made_when_the_order_is_dispatched(hub, organization, order_proofs, default, made):
    organization.proof_of_delivery_default = default
    organization.save()
    order = OrderFactory(hub=hub, status="planned", proof_of_delivery=order_proofs, delivery_code_attempts=3)

    order = order_transition(actor=None, order=order, to_status="dispatched")

    order.refresh_from_db()
    if made:
        assert (len(order.delivery_code), order.delivery_code.isdigit(), order.delivery_code_attempts) == (6, True, 0)
    else:
        assert (order.delivery_code, order.delivery_code_attempts) == ("", 3)


def test_wrong_codes_count_down_and_the_fifth_locks(hub):
    order = OrderFactory(hub=hub, delivery_code="123456")
    answers = []
    for _ in range(5):
        with pytest.raises((DeliveryCodeWrong, DeliveryCodeLocked)) as refusal:
            order_delivery_code_check(order=order, code="000000")
        answers.append((refusal.value.code, refusal.value.details["attempts_left"]))

    assert answers == [
        ("delivery_code_wrong", 4),
        ("delivery_code_wrong", 3),
        ("delivery_code_wrong", 2),
        ("delivery_code_wrong", 1),
        ("delivery_code_locked", 0),
    ]
    with pytest.raises(DeliveryCodeLocked):
        order_delivery_code_check(order=order, code="123456")
    assert Order.objects.get(pk=order.pk).delivery_code_attempts == 5


def test_a_wrong_code_at_completion_is_refused_but_counted(driver_actor, driver, make_stop):
    stop = make_stop(proof_of_delivery=["one_time_code"], delivery_code="123456")

    with pytest.raises(DeliveryCodeWrong):
        execution.stop_complete(actor=driver_actor, stop=stop, at=AT, driver=driver, code="654321")

    stop.refresh_from_db()
    assert (stop.status, stop.order.status, stop.order.delivery_code_attempts) == ("planned", "dispatched", 1)


def test_the_right_code_completes_and_is_recorded(driver_actor, driver, make_stop):
    stop = make_stop(proof_of_delivery=["one_time_code"], delivery_code="123456")

    execution.stop_complete(actor=driver_actor, stop=stop, at=AT, driver=driver, code=" 123456 ")

    stop.refresh_from_db()
    assert (stop.status, stop.code_verified, stop.order.status) == ("done", True, "delivered")
