"""The one writer of slot-hold statuses, and the vocabulary of a hold's history."""

from collections.abc import Mapping
from typing import Any

from accounts.tenancy import Actor
from common.lifecycle import actor_label, transition
from dispatch.models import HOLD_LIFECYCLE, SlotHold, SlotHoldEvent


def slot_hold_created(hold: SlotHold, actor: str) -> SlotHoldEvent:
    return SlotHoldEvent(
        hold=hold,
        kind="slot_hold_created",
        actor=actor,
        to_status=hold.status,
        details={"expires_at": hold.expires_at.isoformat()},
    )


def slot_hold_status_changed(hold: SlotHold, actor: str, *, previous: str, reason: str = "") -> SlotHoldEvent:
    return SlotHoldEvent(
        hold=hold,
        kind=HOLD_LIFECYCLE.events[hold.status],
        actor=actor,
        from_status=previous,
        to_status=hold.status,
        reason=reason[:300],
        details={"order_id": hold.order_id} if hold.order_id else {},
    )


def slot_hold_transition(
    *,
    actor: Actor | None,
    hold: SlotHold,
    to_status: str,
    reason: str = "",
    fields: Mapping[str, Any] | None = None,
) -> SlotHold:
    """The only way a hold changes status (lock order: the slot's counter first, then the hold)."""
    label = actor_label(actor)
    return transition(
        hold,
        lifecycle=HOLD_LIFECYCLE,
        to_status=to_status,
        # Only the hold's row: its hub and template are read, not locked.
        lock=lambda row: (
            SlotHold.objects.select_for_update(of=("self",)).select_related("template", "hub").get(pk=row.pk)
        ),
        fields=fields,
        record=lambda locked, previous: slot_hold_status_changed(locked, label, previous=previous, reason=reason),
        payload=lambda locked, previous: {
            "slot_hold_id": locked.pk,
            "organization_id": locked.organization_id,
            "order_id": locked.order_id,
            "from": previous,
        },
    )
