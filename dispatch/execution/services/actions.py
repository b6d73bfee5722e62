"""The phone's actions, applied exactly once each.

The phone gives every action an id (`client_id`); the first sync that carries it claims it by
inserting the `DriverAction` row in the same transaction as the action's effects, so the unique
(driver, client_id) constraint decides a race: a second sync of the same action waits on the
first's insert and, once it commits, reads and replays the stored answer. A refusal (order
cancelled, stop moved to another route, a proof missing, a malformed action) is stored too: it is
final for that id and answered the same way every time.
"""

import datetime as dt
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction

from accounts.tenancy import Actor
from common import clock
from common.errors import DomainError, FieldValidationError, NotFoundError, flatten_errors
from dispatch.execution.errors import NoRouteToday, OrderCancelled, StopReassigned
from dispatch.execution.selectors import (
    driver_day,
    driver_route_current,
    route_open_stop_ids,
    stop_for_organization,
)
from dispatch.execution.serializers import ActionSerializer
from dispatch.execution.services import stops as execution
from dispatch.models import ActionKind, ActionOutcome, ArrivalSource, Driver, DriverAction, Route, Stop, StopStatus
from orders.lifecycle import OrderStatus

MAX_CLIENT_ID = 64


def _valid_client_id(value) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_CLIENT_ID and "\x00" not in value


def _replay(stored: DriverAction) -> dict:
    return {**stored.response, "replayed": True}


def _rejected(client_id, refusal: DomainError) -> dict:
    result = {
        "client_id": client_id,
        "outcome": ActionOutcome.REJECTED,
        "replayed": False,
        "code": refusal.code,
        "message": refusal.message,
    }
    if refusal.details:
        result["details"] = refusal.details
    if isinstance(refusal, FieldValidationError):
        result["errors"] = refusal.errors
    return result


def _stop_state(stop: Stop) -> dict:
    return {"id": stop.pk, "status": stop.status, "order_status": stop.order.status}


def _route_state(route: Route) -> dict:
    return {
        "id": route.pk,
        "shift_started_at": route.shift_started_at.isoformat() if route.shift_started_at else None,
        "shift_ended_at": route.shift_ended_at.isoformat() if route.shift_ended_at else None,
        "open_stop_ids": route_open_stop_ids(route=route),
    }


def action_apply(*, actor: Actor, driver: Driver, action: dict) -> dict:
    """Apply one action of `driver`'s phone once; a replay answers the stored result, changing nothing."""
    client_id = action.get("client_id") if isinstance(action, dict) else None
    if not _valid_client_id(client_id):
        client_id = None
    elif (stored := DriverAction.objects.filter(driver=driver, client_id=client_id).first()) is not None:
        return _replay(stored)
    shape = ActionSerializer(data=action if isinstance(action, dict) else {})
    if not shape.is_valid():
        refusal = FieldValidationError(flatten_errors(shape.errors), message="The action is not valid.")
        refusal.code = "invalid_action"
        result = _rejected(client_id, refusal)
        if client_id is None:
            return result  # nothing to key it by: answered, not stored
        return _claim_and_run(actor, driver, client_id, _invalid_record(driver, client_id, action), lambda _: result)
    data = shape.validated_data
    record = DriverAction(
        organization_id=driver.organization_id,
        driver=driver,
        client_id=client_id,
        kind=data["kind"],
        device_at=data["device_at"],
        lat=data.get("lat"),
        lng=data.get("lng"),
        accuracy_m=data.get("accuracy_m"),
        payload=_jsonable(data["payload"]),
        actor=actor.label[:150],
        outcome=ActionOutcome.APPLIED,
    )
    return _claim_and_run(actor, driver, client_id, record, lambda claimed: _run(actor, driver, data, claimed))


def _invalid_record(driver: Driver, client_id: str, action) -> DriverAction:
    kind = action.get("kind") if isinstance(action, dict) else None
    return DriverAction(
        organization_id=driver.organization_id,
        driver=driver,
        client_id=client_id,
        kind=kind if kind in ActionKind.values else "",
        device_at=clock.now(),
        actor="",
        outcome=ActionOutcome.REJECTED,
    )


def _claim_and_run(actor: Actor, driver: Driver, client_id: str, record: DriverAction, run) -> dict:
    try:
        with transaction.atomic():
            record.actor = record.actor or actor.label[:150]
            record.received_at = clock.now()
            record.save()  # the claim: a concurrent sync of the same id waits here, then fails
            # The answer as it is stored, so the first answer and every replay are the same JSON.
            result = json.loads(json.dumps(run(record), cls=DjangoJSONEncoder))
            record.outcome, record.response = result["outcome"], {**result, "replayed": False}
            record.save(update_fields=["outcome", "response", "stop", "route"])
    except IntegrityError:
        stored = DriverAction.objects.filter(driver=driver, client_id=client_id).first()
        if stored is None:
            raise
        return _replay(stored)
    return result


def _run(actor: Actor, driver: Driver, data: dict, record: DriverAction) -> dict:
    """The action's effect; a domain refusal becomes the stored rejection (its writes rolled back)."""
    client_id = data["client_id"]
    fix = {
        "at": data["device_at"],
        "lat": data.get("lat"),
        "lng": data.get("lng"),
        "accuracy_m": data.get("accuracy_m"),
        "source": ArrivalSource.DRIVER,
    }
    try:
        if data["kind"] in (ActionKind.START_SHIFT, ActionKind.END_SHIFT):
            route = _route(driver, data)
            record.route = route
            route = _shift(actor, data, route, fix)
            return {
                "client_id": client_id,
                "outcome": ActionOutcome.APPLIED,
                "replayed": False,
                "route": _route_state(route),
            }
        stop = _stop(driver, data["stop_id"])
        record.stop, record.route_id = stop, stop.route_id
        stop = _stop_action(actor, driver, data, stop, fix, record)
        return {"client_id": client_id, "outcome": ActionOutcome.APPLIED, "replayed": False, "stop": _stop_state(stop)}
    except DomainError as refusal:
        record.outcome = ActionOutcome.REJECTED
        return _rejected(client_id, refusal)


def _route(driver: Driver, data: dict) -> Route:
    today = driver_day(driver=driver, now=clock.now())
    route = driver_route_current(driver=driver, date=today, route_id=data.get("route_id"))
    if route is None:
        raise NoRouteToday("You have no dispatched route today.", details={"date": today.isoformat()})
    return route


def _shift(actor: Actor, data: dict, route: Route, fix: dict) -> Route:
    if data["kind"] == ActionKind.START_SHIFT:
        return execution.shift_start(actor=actor, route=route, **fix, **data["payload"])
    return execution.shift_end(actor=actor, route=route, **fix)


def _stop(driver: Driver, stop_id: int) -> Stop:
    """The stop as the driver's phone knows it; the services check the same again under lock."""
    stop = stop_for_organization(organization_id=driver.organization_id, stop_id=stop_id)
    if stop is None:
        raise NotFoundError("No such stop.", code="stop_not_found", details={"stop_id": stop_id})
    if stop.order.status == OrderStatus.CANCELLED:
        raise OrderCancelled(
            f"Order {stop.order.merchant_reference} was cancelled; nothing was recorded for it.",
            details={"order_id": stop.order_id, "stop_id": stop.pk},
        )
    if stop.route.driver_id != driver.pk or stop.status == StopStatus.DROPPED:
        raise StopReassigned(
            f"The stop for order {stop.order.merchant_reference} was moved off your route; nothing was recorded.",
            details={"order_id": stop.order_id, "stop_id": stop.pk},
        )
    return stop


def _stop_action(actor: Actor, driver: Driver, data: dict, stop: Stop, fix: dict, record: DriverAction) -> Stop:
    kind, payload = data["kind"], data["payload"]
    common = {"actor": actor, "stop": stop, "driver": driver, **fix}
    if kind == ActionKind.DEPART:
        return execution.stop_depart(**common)
    if kind == ActionKind.ARRIVE:
        return execution.stop_arrive(**common)
    if kind == ActionKind.COMPLETE:
        return execution.stop_complete(**common, **payload, action=record)
    if kind == ActionKind.FAIL:
        return execution.stop_fail(**common, **payload, action=record)
    return execution.stop_skip(**common, **payload)


def _jsonable(value):
    """Validated payloads hold Decimals and datetimes; the stored copy is plain JSON."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
