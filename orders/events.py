"""The vocabulary of order history: one constructor per event kind."""

from orders.models import Order, OrderEvent


def _event(order, kind, actor, *, from_status="", to_status="", reason="", lat=None, lng=None, details=None):
    return OrderEvent(
        order=order,
        kind=kind,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        lat=lat,
        lng=lng,
        details=details or {},
    )


def order_created(order: Order, actor: str) -> OrderEvent:
    return _event(order, "order_created", actor, to_status=order.status)


def address_flagged(order: Order, actor: str) -> OrderEvent:
    return _event(
        order,
        "address_flagged",
        actor,
        reason=order.address_issue_detail,
        details={"address_issue": order.address_issue},
    )


def status_changed(
    order: Order, actor: str, *, previous: str, reason: str = "", lat=None, lng=None, details=None
) -> OrderEvent:
    return _event(
        order,
        f"order_{order.status}",
        actor,
        from_status=previous,
        to_status=order.status,
        reason=reason,
        lat=lat,
        lng=lng,
        details=details,
    )


def order_updated(order: Order, actor: str, *, changed: list[str]) -> OrderEvent:
    return _event(order, "order_updated", actor, details={"changed": changed})


def customer_action(order: Order, actor: str, kind: str, *, details: dict) -> OrderEvent:
    return _event(order, kind, actor, details=details)


def failure_policy_decided(order: Order, actor: str, *, summary: str, details: dict) -> OrderEvent:
    """What the failed-delivery policy decided after a failed or skipped stop (details name the stop)."""
    return _event(order, "failure_policy_decided", actor, reason=summary[:300], details=details)


def delivery_code_reset(order: Order, actor: str, *, attempts_before: int) -> OrderEvent:
    """Ops gave the customer a new one-time code; the code itself never enters the history."""
    return _event(order, "delivery_code_reset", actor, details={"attempts_before": attempts_before})
