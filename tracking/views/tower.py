"""The control tower: the live page, and drill-downs into a route and an order.

The page renders today's snapshot (a plain reload shows the truth); `/ws/tower/` then pushes
positions, ETAs, KPIs and exceptions. Exception buttons call the exception actions API
(`tracking/api/exceptions.py`).
"""

import datetime as dt

from django.http import Http404
from django.shortcuts import render

from accounts.models import Role
from accounts.navigation import page_roles
from accounts.tenancy import organization_page
from dispatch.models import Route, StopStatus
from dispatch.network.selectors import hub_list
from orders.models import ProofOfDelivery
from orders.proofs import required_proof_labels, required_proofs
from orders.selectors import order_events, order_list
from orders.services import DELIVERY_CODE_RESET_STATUSES, order_delivery_code_attempts_left
from tracking.models import DeliveryException, StopEta
from tracking.selectors.eta_accuracy import eta_accuracy
from tracking.selectors.order_record import order_delivery_record
from tracking.selectors.tower import organization_today, stop_state, tower_snapshot
from tracking.selectors.tracking_page import order_live_stop
from tracking.serializers import TowerSnapshotSerializer

OFFICE_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER, Role.VIEWER})


def _day(request, organization) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET["date"])
    except (KeyError, ValueError):
        return organization_today(organization)


@organization_page(roles=page_roles("control-tower"))
def control_tower(request):
    organization = request.actor.organization
    day = _day(request, organization)
    context = {
        "day": day,
        "hubs": hub_list(organization=organization),
        "snapshot": TowerSnapshotSerializer(tower_snapshot(organization=organization, day=day)).data,
        # Rendered with the page, not pushed: it moves only as stops are arrived at.
        "eta_accuracy": eta_accuracy(organization=organization, day=day),
        "is_today": day == organization_today(organization),
        "can_write": request.actor.can_write(),
    }
    return render(request, "tower/tower.html", context)


@organization_page(roles=OFFICE_ROLES)
def tower_route(request, pk):
    organization = request.actor.organization
    route = (
        Route.objects.filter(pk=pk, plan__organization=organization)
        .select_related("plan__hub", "driver", "vehicle")
        .first()
    )
    if route is None:
        raise Http404("No such route.")
    stops = route.stops.exclude(status=StopStatus.DROPPED).select_related("order").order_by("sequence")
    etas = {e.stop_id: e for e in StopEta.objects.filter(stop__in=stops)}
    rows = [{"stop": stop, "eta": etas.get(stop.pk), "state": stop_state(stop, etas.get(stop.pk))} for stop in stops]
    done = sum(1 for row in rows if row["state"] in ("delivered", "failed"))
    context = {"route": route, "rows": rows, "done": done}
    return render(request, "tower/route.html", context)


@organization_page(roles=OFFICE_ROLES)
def tower_order(request, pk):
    organization = request.actor.organization
    order = order_list(organization=organization).filter(pk=pk).first()
    if order is None:
        raise Http404("No such order.")
    events = list(order_events(order=order))
    # Proof of delivery travels in the delivered (or failed) event's details when the app sent it.
    proof = next(
        (e.details for e in reversed(events) if e.kind in ("order_delivered", "order_failed") and e.details), None
    )
    stop = order_live_stop(order)
    context = {
        "order": order,
        "events": events,
        "proof": proof,
        "required": required_proof_labels(order),
        "record": order_delivery_record(organization=organization, order=order),
        "stop": stop,
        "eta": StopEta.objects.filter(stop=stop).first() if stop else None,
        "exceptions": DeliveryException.objects.filter(organization=organization, order=order)[:20],
        "delivery_code": _delivery_code_state(order),
        "can_write": request.actor.can_write(),
    }
    return render(request, "tower/order.html", context)


def _delivery_code_state(order) -> dict | None:
    """The one-time code's tries left while the customer may need it at the door (never the code)."""
    if order.status not in DELIVERY_CODE_RESET_STATUSES:
        return None
    if ProofOfDelivery.ONE_TIME_CODE not in required_proofs(order):
        return None
    return {"attempts_left": order_delivery_code_attempts_left(order)}
