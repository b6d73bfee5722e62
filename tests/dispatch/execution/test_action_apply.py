"""The phone's actions apply exactly once: replays answer the stored result and change nothing."""

import datetime as dt

import pytest

from dispatch.execution.services.actions import action_apply
from dispatch.models import DriverAction, Route, Stop, StopEvent
from orders.models import Order, OrderEvent
from orders.services import order_transition
from tests.clock import START
from tests.concurrency import run_together
from tests.factories.fleet import DriverFactory

AT = (START + dt.timedelta(minutes=5)).isoformat()


def action(client_id, kind, stop=None, **fields):
    body = {"client_id": client_id, "kind": kind, "device_at": AT, "lat": 60.17, "lng": 24.94, "accuracy_m": 9}
    if stop is not None:
        body["stop_id"] = stop.pk
    return {**body, **fields}


def counts():
    return DriverAction.objects.count(), StopEvent.objects.count(), OrderEvent.objects.count()


@pytest.mark.django_db
def test_an_applied_action_is_stored_and_its_replay_changes_nothing(driver_actor, driver, make_stop):
    stop = make_stop()

    first = action_apply(actor=driver_actor, driver=driver, action=action("c-1", "arrive", stop))
    before = counts()
    again = action_apply(actor=driver_actor, driver=driver, action=action("c-1", "arrive", stop))

    expected = {
        "client_id": "c-1",
        "outcome": "applied",
        "replayed": False,
        "stop": {"id": stop.pk, "status": "arrived", "order_status": "arrived"},
    }
    assert first == expected
    assert again == {**expected, "replayed": True}
    assert counts() == before
    stored = DriverAction.objects.get()
    assert (stored.kind, stored.stop_id, stored.route_id, stored.actor, stored.outcome, stored.accuracy_m) == (
        "arrive",
        stop.pk,
        stop.route_id,
        "user:acme-driver",
        "applied",
        9,
    )


@pytest.mark.django_db
def test_a_replay_with_another_body_still_answers_the_first_result(driver_actor, driver, make_stop):
    stop, other = make_stop(), make_stop()
    action_apply(actor=driver_actor, driver=driver, action=action("c-1", "arrive", stop))

    again = action_apply(actor=driver_actor, driver=driver, action=action("c-1", "skip", other))

    assert (again["replayed"], again["stop"]["id"]) == (True, stop.pk)
    assert Stop.objects.get(pk=other.pk).status == "planned"


@pytest.mark.django_db
def test_a_malformed_action_is_rejected_with_field_messages_and_stored(driver_actor, driver):
    bad = {"client_id": "c-1", "kind": "teleport", "device_at": "yesterday"}

    first = action_apply(actor=driver_actor, driver=driver, action=bad)
    again = action_apply(actor=driver_actor, driver=driver, action={**bad, "kind": "arrive"})

    assert first == {
        "client_id": "c-1",
        "outcome": "rejected",
        "replayed": False,
        "code": "invalid_action",
        "message": "The action is not valid.",
        "errors": {
            "kind": ['"teleport" is not a valid choice.'],
            "device_at": [
                "Datetime has wrong format. Use one of these formats instead: "
                "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
            ],
        },
    }
    assert again == {**first, "replayed": True}
    assert DriverAction.objects.get().outcome == "rejected"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "payload", "errors"),
    [
        ("arrive", {}, {"stop_id": ["This action needs the stop it is for."]}),
        ("fail", {"reason": "bored"}, {"payload.reason": ['"bored" is not a valid choice.']}),
        ("fail", {"reason": "other"}, {"payload.note": ["Say what happened when the reason is 'other'."]}),
        ("complete", {"cash_collected": "lots"}, {"payload.cash_collected": ["A valid number is required."]}),
        (
            "start_shift",
            {"parcels_loaded": -1},
            {"payload.parcels_loaded": ["Ensure this value is greater than or equal to 0."]},
        ),
    ],
    ids=["no-stop", "unknown-reason", "other-without-note", "bad-cash", "negative-load"],
)
def test_action_shapes_are_checked_per_kind(driver_actor, driver, make_stop, kind, payload, errors):
    stop = make_stop() if kind != "arrive" else None
    body = action("c-1", kind, stop, payload=payload)

    result = action_apply(actor=driver_actor, driver=driver, action=body)

    assert (result["code"], result["errors"]) == ("invalid_action", errors)
    assert Stop.objects.filter(status="planned").count() == (1 if stop else 0)


@pytest.mark.django_db
def test_an_action_without_a_client_id_is_answered_and_not_stored(driver_actor, driver):
    result = action_apply(actor=driver_actor, driver=driver, action={"kind": "arrive"})

    assert (result["client_id"], result["outcome"], result["code"]) == (None, "rejected", "invalid_action")
    assert DriverAction.objects.count() == 0


@pytest.mark.django_db
def test_an_order_cancelled_while_offline_is_rejected_and_stays_rejected(driver_actor, driver, make_stop):
    stop = make_stop()
    order_transition(actor=None, order=stop.order, to_status="cancelled", reason="customer called")
    before = counts()

    result = action_apply(actor=driver_actor, driver=driver, action=action("c-1", "arrive", stop))

    assert result == {
        "client_id": "c-1",
        "outcome": "rejected",
        "replayed": False,
        "code": "order_cancelled",
        "message": f"Order {stop.order.merchant_reference} was cancelled; nothing was recorded for it.",
        "details": {"order_id": stop.order_id, "stop_id": stop.pk},
    }
    assert counts() == (before[0] + 1, *before[1:])
    assert action_apply(actor=driver_actor, driver=driver, action=action("c-1", "arrive", stop))["replayed"] is True


@pytest.mark.django_db
def test_a_stop_moved_to_another_drivers_route_is_rejected(driver_actor, driver, hub, route, make_stop):
    stop = make_stop()
    Route.objects.filter(pk=route.pk).update(driver=DriverFactory(home_hub=hub))

    result = action_apply(actor=driver_actor, driver=driver, action=action("c-1", "complete", stop))

    assert (result["outcome"], result["code"]) == ("rejected", "stop_reassigned")
    assert Stop.objects.get(pk=stop.pk).status == "planned"


@pytest.mark.django_db
def test_a_missing_proof_is_rejected_naming_it(driver_actor, driver, make_stop):
    stop = make_stop(proof_of_delivery=["photo"])

    result = action_apply(actor=driver_actor, driver=driver, action=action("c-1", "complete", stop))

    assert (result["code"], result["details"], result["message"]) == (
        "proof_required",
        {"missing": ["photo"]},
        "This delivery cannot be completed without: photo.",
    )
    assert (Stop.objects.get(pk=stop.pk).status, Order.objects.get(pk=stop.order_id).status) == (
        "planned",
        "dispatched",
    )


@pytest.mark.django_db
def test_an_illegal_move_is_rejected_with_the_lifecycles_code(driver_actor, driver, make_stop):
    stop = make_stop()
    action_apply(actor=driver_actor, driver=driver, action=action("c-1", "complete", stop))

    result = action_apply(actor=driver_actor, driver=driver, action=action("c-2", "arrive", stop))

    assert (result["code"], result["details"]["current_status"]) == ("invalid_stop_transition", "done")


@pytest.mark.django_db
def test_shift_actions_work_on_todays_route(driver_actor, driver, route, make_stop):
    stop = make_stop()

    started = action_apply(
        actor=driver_actor,
        driver=driver,
        action=action("c-1", "start_shift", payload={"vehicle_ok": True, "parcels_loaded": 1}),
    )
    ended = action_apply(actor=driver_actor, driver=driver, action=action("c-2", "end_shift"))

    assert started["route"] == {
        "id": route.pk,
        "shift_started_at": "2026-11-30T06:05:00+00:00",
        "shift_ended_at": None,
        "open_stop_ids": [stop.pk],
    }
    assert (ended["route"]["shift_ended_at"], ended["route"]["open_stop_ids"]) == (
        started["route"]["shift_started_at"],
        [stop.pk],
    )
    assert Order.objects.get(pk=stop.order_id).status == "out_for_delivery"


@pytest.mark.django_db
def test_no_route_today_is_rejected(driver_actor, driver):
    result = action_apply(actor=driver_actor, driver=driver, action=action("c-1", "start_shift"))

    assert (result["code"], result["message"]) == ("no_route_today", "You have no dispatched route today.")


@pytest.mark.django_db(transaction=True)
def test_two_syncs_of_one_action_at_once_apply_it_once(postgres, driver_actor, driver, make_stop):
    """The unique (driver, client_id) decides: one applies, the others replay its stored answer."""
    stop = make_stop()
    body = action("c-1", "complete", stop)

    results = run_together([lambda: action_apply(actor=driver_actor, driver=driver, action=body) for _ in range(4)])

    assert sorted(r["replayed"] for r in results) == [False, True, True, True]
    assert {r["outcome"] for r in results} == {"applied"}
    assert DriverAction.objects.count() == 1
    assert list(OrderEvent.objects.filter(order=stop.order).values_list("to_status", flat=True)) == [
        "out_for_delivery",
        "arrived",
        "delivered",
    ]


@pytest.mark.django_db(transaction=True)
def test_two_phones_completing_one_stop_at_once_complete_it_once(postgres, driver_actor, driver, make_stop):
    stop = make_stop()

    results = run_together(
        [
            lambda: action_apply(actor=driver_actor, driver=driver, action=action("c-1", "complete", stop)),
            lambda: action_apply(actor=driver_actor, driver=driver, action=action("c-2", "complete", stop)),
        ]
    )

    assert sorted((r["outcome"], r.get("code")) for r in results) == [
        ("applied", None),
        ("rejected", "invalid_stop_transition"),
    ]
    assert OrderEvent.objects.filter(order=stop.order, to_status="delivered").count() == 1
