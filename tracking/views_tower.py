"""The control tower: the live page, drill-downs into a route and an order, and exception actions.

The page renders today's snapshot (a plain reload shows the truth); `/ws/tower/` then pushes
positions, ETAs, KPIs and exceptions. Exception buttons call the small APIs below, which go
through the tenancy base class and the exception services.
"""

import datetime as dt

from django.core.exceptions import ImproperlyConfigured
from django.http import Http404
from django.shortcuts import render
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts.models import Role, User
from accounts.tenancy import OrganizationApi, organization_page
from dispatch.models import Route, StopStatus
from dispatch.network.selectors import hub_list
from orders.selectors import order_events, order_list
from tracking import live
from tracking.exceptions import (
    exception_acknowledge,
    exception_assign,
    exception_payload,
    exception_resolve,
)
from tracking.models import DeliveryException, StopEta

OFFICE_ROLES = frozenset({Role.ADMIN, Role.DISPATCHER, Role.VIEWER})


def _day(request, organization) -> dt.date:
    try:
        return dt.date.fromisoformat(request.GET["date"])
    except (KeyError, ValueError):
        return live.organization_today(organization)


@organization_page(roles=OFFICE_ROLES)
def control_tower(request):
    organization = request.actor.organization
    day = _day(request, organization)
    context = {
        "day": day,
        "hubs": hub_list(organization=organization),
        "snapshot": live.tower_snapshot(organization=organization, day=day),
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
    rows = [
        {"stop": stop, "eta": etas.get(stop.pk), "state": live.stop_state(stop, etas.get(stop.pk))} for stop in stops
    ]
    done = sum(1 for row in rows if row["state"] in ("delivered", "failed"))
    context = {"route": route, "rows": rows, "done": done, "tz": route.plan.hub.tz}
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
    stop = live.order_live_stop(order)
    context = {
        "order": order,
        "events": events,
        "proof": proof,
        "stop": stop,
        "eta": StopEta.objects.filter(stop=stop).first() if stop else None,
        "exceptions": DeliveryException.objects.filter(organization=organization, order=order)[:20],
        "tz": order.hub.tz if order.hub else dt.UTC,
    }
    return render(request, "tower/order.html", context)


# --- Exception actions (JSON, for the tower's buttons) -----------------------------------------


class ExceptionOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    severity = serializers.CharField()
    status = serializers.CharField()
    message = serializers.CharField()


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class AssignSerializer(NoteSerializer):
    user_id = serializers.IntegerField(required=False, allow_null=True, default=None)


class ExceptionActionApi(OrganizationApi):
    input_serializer = NoteSerializer

    def organization_queryset(self):
        return DeliveryException.objects.select_related("assigned_to")

    def perform(self, exception, data):
        raise ImproperlyConfigured(f"{type(self).__name__} must define perform()")

    @extend_schema(request=NoteSerializer, responses=ExceptionOutputSerializer, tags=["tower"])
    def post(self, request, pk):
        serializer = self.input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        exception = self.get_queryset().filter(pk=pk).first()
        if exception is None:
            raise Http404("No such exception.")
        changed = self.perform(exception, serializer.validated_data)
        return Response(exception_payload(changed))


class ExceptionAcknowledgeApi(ExceptionActionApi):
    def perform(self, exception, data):
        return exception_acknowledge(actor=self.actor, exception=exception, note=data["note"])


class ExceptionResolveApi(ExceptionActionApi):
    def perform(self, exception, data):
        return exception_resolve(actor=self.actor, exception=exception, note=data["note"])


class ExceptionAssignApi(ExceptionActionApi):
    """Assign to a colleague (`user_id`), or to oneself when no user is given."""

    input_serializer = AssignSerializer

    @extend_schema(request=AssignSerializer, responses=ExceptionOutputSerializer, tags=["tower"])
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, exception, data):
        user = self.actor.user
        if data["user_id"] is not None:
            user = User.objects.filter(organization=self.organization, pk=data["user_id"]).first()
            if user is None:
                raise Http404("No such user in this organization.")
        return exception_assign(actor=self.actor, exception=exception, user=user, note=data["note"])
