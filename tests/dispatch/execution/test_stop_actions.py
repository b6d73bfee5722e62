"""Every action on a stop from every status: the stop moves, its order follows, or nothing changes."""

import datetime as dt
from decimal import Decimal

import pytest

from common.errors import FieldValidationError
from dispatch.execution.errors import OrderCancelled, ProofRequired, RouteNotDispatched, StopReassigned
from dispatch.execution.services import stops as execution
from dispatch.models import DeliveryProof, Route, Stop, StopEvent, StopStatus
from dispatch.models.planning import InvalidStopTransition
from orders.models import Order, OrderEvent
from tests.clock import START
from tests.factories.fleet import DriverFactory

pytestmark = pytest.mark.django_db
S = StopStatus
# The order's status that goes with each stop status (what the app would have left behind).
ORDER_WITH = {
    S.PLANNED: "out_for_delivery",
    S.EN_ROUTE: "out_for_delivery",
    S.ARRIVED: "arrived",
    S.DONE: "delivered",
    S.FAILED: "failed",
    S.SKIPPED: "failed",
}
AT = START + dt.timedelta(minutes=30)
REASON = {"reason": "customer_absent"}
ACTIONS = {
    "depart": (execution.stop_depart, {}, S.EN_ROUTE, "out_for_delivery"),
    "arrive": (execution.stop_arrive, {}, S.ARRIVED, "arrived"),
    "complete": (execution.stop_complete, {}, S.DONE, "delivered"),
    "fail": (execution.stop_fail, REASON, S.FAILED, "failed"),
    "skip": (execution.stop_skip, REASON, S.SKIPPED, "failed"),
}
ALLOWED = {
    "depart": [S.PLANNED],
    "arrive": [S.PLANNED, S.EN_ROUTE],
    "complete": [S.PLANNED, S.EN_ROUTE, S.ARRIVED],
    "fail": [S.PLANNED, S.EN_ROUTE, S.ARRIVED],
    "skip": [S.PLANNED, S.EN_ROUTE],
}
# Repeating these changes nothing (the geofence and the tap both arrive; a repeated depart).
UNCHANGED = {"depart": [S.EN_ROUTE], "arrive": [S.ARRIVED]}
MOVES = [(kind, source) for kind, sources in ALLOWED.items() for source in sources]
REFUSED = [
    (kind, source)
    for kind in ACTIONS
    for source in ORDER_WITH
    if source not in ALLOWED[kind] and source not in UNCHANGED.get(kind, [])
]


def put(stop, status):
    Stop.objects.filter(pk=stop.pk).update(status=status)
    Order.objects.filter(pk=stop.order_id).update(status=ORDER_WITH[status])
    stop.refresh_from_db()
    return stop


def history():
    return StopEvent.objects.count(), OrderEvent.objects.count()


@pytest.mark.parametrize(("kind", "source"), MOVES, ids=[f"{k}:{s}" for k, s in MOVES])
def test_allowed_actions_move_the_stop_and_its_order(driver_actor, driver, make_stop, kind, source):
    stop = put(make_stop(), source)
    service, extra, target, order_target = ACTIONS[kind]

    moved = service(actor=driver_actor, stop=stop, at=AT, lat=60.17, lng=24.94, accuracy_m=8, driver=driver, **extra)

    stop.refresh_from_db()
    assert (stop.status, stop.order.status) == (target, order_target) == (moved.status, moved.order.status)
    event = StopEvent.objects.filter(stop=stop).last()
    assert (event.from_status, event.to_status, event.actor) == (source, target, "user:acme-driver")
    assert {k: event.details[k] for k in ("device_at", "lat", "lng", "accuracy_m", "source")} == {
        "device_at": AT.isoformat(),
        "lat": 60.17,
        "lng": 24.94,
        "accuracy_m": 8,
        "source": "driver",
    }


@pytest.mark.parametrize(("kind", "source"), REFUSED, ids=[f"{k}:{s}" for k, s in REFUSED])
def test_refused_actions_change_nothing(driver_actor, driver, make_stop, kind, source):
    stop = put(make_stop(), source)
    service, extra, target, _ = ACTIONS[kind]
    before = history()

    with pytest.raises(InvalidStopTransition) as refusal:
        service(actor=driver_actor, stop=stop, at=AT, driver=driver, **extra)

    assert refusal.value.code == "invalid_stop_transition"
    assert refusal.value.details["current_status"] == source
    stop.refresh_from_db()
    assert (stop.status, stop.order.status, history()) == (source, ORDER_WITH[source], before)


@pytest.mark.parametrize(
    ("kind", "source"),
    [(k, s) for k, sources in UNCHANGED.items() for s in sources],
    ids=[f"{k}:{s}" for k, sources in UNCHANGED.items() for s in sources],
)
def test_repeating_an_arrival_or_a_departure_changes_nothing(driver_actor, driver, make_stop, kind, source):
    stop = put(make_stop(), source)
    service = ACTIONS[kind][0]
    before = history()

    moved = service(actor=driver_actor, stop=stop, at=AT, driver=driver)

    assert (moved.status, history()) == (source, before)


def test_a_dispatched_order_goes_out_for_delivery_on_the_way_to_arrived(driver_actor, driver, make_stop):
    stop = make_stop()

    execution.stop_arrive(actor=driver_actor, stop=stop, at=AT, lat=60.1, lng=24.9, accuracy_m=12, driver=driver)

    rows = list(OrderEvent.objects.filter(order=stop.order).values_list("from_status", "to_status", "lat", "lng"))
    assert rows == [("dispatched", "out_for_delivery", 60.1, 24.9), ("out_for_delivery", "arrived", 60.1, 24.9)]
    event = OrderEvent.objects.filter(order=stop.order).last()
    assert event.details["device_at"] == AT.isoformat()
    # The server's own time beside the phone's: when the row was written, not when the phone says.
    assert START <= dt.datetime.fromisoformat(event.details["server_at"]) <= event.at
    assert (event.details["accuracy_m"], event.details["source"], event.actor) == (12, "driver", "user:acme-driver")
    stop.refresh_from_db()
    assert (stop.arrived_at, stop.arrival_source) == (AT, "driver")


def test_shift_start_records_the_checks_and_sends_every_dispatched_order_out(driver_actor, route, make_stop):
    first, second = make_stop(), make_stop()
    Order.objects.filter(pk=second.order_id).update(status="cancelled")

    execution.shift_start(
        actor=driver_actor, route=route, at=AT, vehicle_ok=False, vehicle_notes="Left mirror cracked", parcels_loaded=2
    )

    route.refresh_from_db()
    assert route.shift_started_at == AT
    assert route.vehicle_check == {"ok": False, "notes": "Left mirror cracked", "checked_at": AT.isoformat()}
    assert route.load_check == {"parcels_loaded": 2, "parcels_planned": 3}
    assert list(Order.objects.order_by("pk").values_list("status", flat=True)) == ["out_for_delivery", "cancelled"]
    assert first.order.events.get().details["route_id"] == route.pk


def test_shift_start_twice_keeps_the_first(driver_actor, route):
    execution.shift_start(actor=driver_actor, route=route, at=AT)

    execution.shift_start(actor=driver_actor, route=route, at=AT + dt.timedelta(hours=1), vehicle_ok=False)

    route.refresh_from_db()
    assert (route.shift_started_at, route.vehicle_check["ok"]) == (AT, True)


def test_shift_end_keeps_open_stops_open(driver_actor, route, make_stop):
    stop = make_stop()

    execution.shift_end(actor=driver_actor, route=route, at=AT)

    route.refresh_from_db()
    stop.refresh_from_db()
    assert (route.shift_ended_at, stop.status) == (AT, "planned")


def test_depart_sends_the_other_en_route_stop_back_and_records_the_last_departure(driver_actor, driver, make_stop):
    served, heading, other = make_stop(), make_stop(), make_stop()
    execution.stop_arrive(actor=driver_actor, stop=served, at=AT, driver=driver)
    execution.stop_complete(actor=driver_actor, stop=served, at=AT + dt.timedelta(minutes=2), driver=driver)
    execution.stop_depart(actor=driver_actor, stop=heading, at=AT + dt.timedelta(minutes=3), driver=driver)

    execution.stop_depart(actor=driver_actor, stop=other, at=AT + dt.timedelta(minutes=4), driver=driver)

    statuses = dict(Stop.objects.values_list("pk", "status"))
    assert statuses == {served.pk: "done", heading.pk: "planned", other.pk: "en_route"}
    served.refresh_from_db()
    assert (served.departed_at, served.service_seconds) == (AT + dt.timedelta(minutes=3), 180)
    assert StopEvent.objects.filter(stop=served, kind="stop_departed").count() == 1


def test_geofence_arrival_then_departure_measure_the_service_time(make_stop):
    stop = make_stop()

    execution.stop_arrive(actor=None, stop=stop, at=AT, source="geofence")
    execution.stop_departed(stop=stop, at=AT + dt.timedelta(seconds=200), lat=60.1, lng=24.9)
    execution.stop_departed(stop=stop, at=AT + dt.timedelta(seconds=500))

    stop.refresh_from_db()
    assert (stop.status, stop.arrival_source, stop.arrived_at) == ("arrived", "geofence", AT)
    assert (stop.departed_at, stop.service_seconds) == (AT + dt.timedelta(seconds=200), 200)
    assert stop.order.events.last().actor == "system"


def test_fail_records_the_reason_and_counts_the_attempt(driver_actor, driver, make_stop):
    stop = make_stop()

    execution.stop_fail(actor=driver_actor, stop=stop, at=AT, reason="refused", note="Did not order it", driver=driver)

    stop.refresh_from_db()
    assert (stop.status, stop.failure_reason, stop.failure_note, stop.completed_at) == (
        "failed",
        "refused",
        "Did not order it",
        AT,
    )
    assert (stop.order.status, stop.order.delivery_attempts) == ("failed", 1)
    assert stop.order.events.last().reason == "refused"


def test_skip_fails_the_order_without_counting_an_attempt(driver_actor, driver, make_stop):
    stop = make_stop()

    execution.stop_skip(actor=driver_actor, stop=stop, at=AT, reason="out_of_time", driver=driver)

    stop.refresh_from_db()
    assert (stop.status, stop.failure_reason, stop.order.status, stop.order.delivery_attempts) == (
        "skipped",
        "out_of_time",
        "failed",
        0,
    )
    assert stop.order.events.last().reason == "skipped: out_of_time"


@pytest.mark.parametrize("service", [execution.stop_fail, execution.stop_skip], ids=["fail", "skip"])
def test_other_needs_a_note(driver_actor, driver, make_stop, service):
    stop = make_stop()

    with pytest.raises(FieldValidationError) as refusal:
        service(actor=driver_actor, stop=stop, at=AT, reason="other", driver=driver)

    assert (refusal.value.code, refusal.value.errors) == (
        "validation_error",
        {"note": ["Say what happened when the reason is 'other'."]},
    )
    stop.refresh_from_db()
    assert stop.status == "planned"


def proof(stop, driver, client_id, kind):
    return DeliveryProof.objects.create(
        organization=stop.route.plan.organization,
        driver=driver,
        order=stop.order,
        stop=stop,
        client_id=client_id,
        kind=kind,
        file=f"proofs/{client_id}.png",
        content_type="image/png",
        size_bytes=100,
        sha256="0" * 64,
        captured_at=AT,
    )


@pytest.mark.parametrize(
    ("required", "cash", "given", "missing"),
    [
        (["signature"], None, {}, ["signature"]),
        (["signature"], None, {"signature": "sig-not-uploaded"}, ["signature"]),
        (["photo"], None, {}, ["photo"]),
        (["photo"], None, {"photos": ["ph-1", "ph-missing"]}, ["photo"]),
        (["one_time_code"], None, {}, ["one_time_code"]),
        (["recipient_name"], None, {}, ["recipient_name"]),
        ([], Decimal("25.50"), {}, ["cash_collected"]),
        (
            ["signature", "photo", "one_time_code"],
            Decimal("5"),
            {},
            ["signature", "photo", "one_time_code", "cash_collected"],
        ),
    ],
    ids=["signature", "signature-not-uploaded", "photo", "photo-not-uploaded", "code", "name", "cash", "all"],
)
def test_completion_without_a_required_proof_is_refused_and_changes_nothing(
    driver_actor, driver, make_stop, required, cash, given, missing
):
    stop = make_stop(proof_of_delivery=required, cash_on_delivery=cash)
    proof(stop, driver, "ph-1", "photo")
    before = history()

    with pytest.raises(ProofRequired) as refusal:
        execution.stop_complete(actor=driver_actor, stop=stop, at=AT, driver=driver, **given)

    assert (refusal.value.code, refusal.value.status_code, refusal.value.details["missing"]) == (
        "proof_required",
        422,
        missing,
    )
    assert refusal.value.message.startswith("This delivery cannot be completed without: ")
    stop.refresh_from_db()
    assert (stop.status, stop.order.status, history()) == ("planned", "dispatched", before)
    assert DeliveryProof.objects.filter(action__isnull=False).count() == 0


def test_completion_with_every_proof_records_them(driver_actor, driver, make_stop):
    stop = make_stop(proof_of_delivery=["signature", "photo", "recipient_name"], cash_on_delivery=Decimal("25.50"))
    signature, photo = proof(stop, driver, "sig-1", "signature"), proof(stop, driver, "ph-1", "photo")

    execution.stop_complete(
        actor=driver_actor,
        stop=stop,
        at=AT,
        driver=driver,
        signature="sig-1",
        photos=["ph-1"],
        recipient_name="Aino",
        cash_collected=Decimal("25.50"),
    )

    stop.refresh_from_db()
    assert (stop.status, stop.order.status, stop.recipient_name, stop.cash_collected, stop.completed_at) == (
        "done",
        "delivered",
        "Aino",
        Decimal("25.50"),
        AT,
    )
    details = StopEvent.objects.get(stop=stop, to_status="done").details
    assert (details["signature"], details["photos"], details["cash_collected"]) == (signature.pk, [photo.pk], "25.50")


def test_a_proof_another_driver_uploaded_does_not_count(driver_actor, driver, hub, make_stop):
    stop = make_stop(proof_of_delivery=["signature"])
    proof(stop, DriverFactory(home_hub=hub), "sig-1", "signature")

    with pytest.raises(ProofRequired) as refusal:
        execution.stop_complete(actor=driver_actor, stop=stop, at=AT, driver=driver, signature="sig-1")

    assert refusal.value.details == {"missing": ["signature"], "reasons": {"signature": "not uploaded yet"}}


def test_a_pickup_records_the_items_collected_and_damage(driver_actor, driver, make_stop):
    stop = make_stop(type="pickup")

    execution.stop_complete(
        actor=driver_actor,
        stop=stop,
        at=AT,
        driver=driver,
        items=[{"code": "RET-1", "quantity": 2}],
        damage_note="Box corner dented",
    )

    stop.refresh_from_db()
    assert (stop.collected_items, stop.damage_note) == ([{"code": "RET-1", "quantity": 2}], "Box corner dented")


def test_a_cancelled_order_is_refused(driver_actor, driver, make_stop):
    stop = make_stop(status="planned")
    Order.objects.filter(pk=stop.order_id).update(status="cancelled")

    with pytest.raises(OrderCancelled):
        execution.stop_arrive(actor=driver_actor, stop=stop, at=AT, driver=driver)

    stop.refresh_from_db()
    assert stop.status == "planned"


def test_a_stop_on_another_drivers_route_is_refused(driver_actor, driver, hub, route, make_stop):
    stop = make_stop()
    Route.objects.filter(pk=route.pk).update(driver=DriverFactory(home_hub=hub))

    with pytest.raises(StopReassigned):
        execution.stop_arrive(actor=driver_actor, stop=stop, at=AT, driver=driver)


def test_a_route_not_dispatched_is_refused(driver_actor, driver, route, make_stop):
    stop = make_stop()
    route.plan.status = "optimized"
    route.plan.save()

    with pytest.raises(RouteNotDispatched):
        execution.stop_arrive(actor=driver_actor, stop=stop, at=AT, driver=driver)
