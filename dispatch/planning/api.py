"""Planning API: plans, optimization, manual edits, dispatch, live changes, drivers' routes.

Thin views: validate with the nested input serializer, load through a selector inside the
caller's organization (404 otherwise), call one service, answer with the plan snapshot.
"""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.models import Role
from accounts.tenancy import OrganizationApi
from common import clock
from common.errors import FieldValidationError
from dispatch.models import Objective, Plan
from dispatch.network import selectors
from dispatch.planning.selectors import driver_routes, driver_today, plan_get, plan_list, plan_liveness
from dispatch.planning.serializers import DriverRoutesSerializer, PlanSerializer, PlanSummarySerializer
from dispatch.planning.services import edits, live, plans

TAG = ["plans"]
PLAN_RESPONSE = OpenApiResponse(PlanSerializer, description="The plan with routes, stops, totals, unassigned")
ERRORS = {
    400: OpenApiResponse(description="Field errors"),
    404: OpenApiResponse(description="No such plan in your organization"),
    409: OpenApiResponse(description="plan_version_conflict (reload), edit_infeasible (violations), locked, status"),
}


class VersionInput(serializers.Serializer):
    expected_version = serializers.IntegerField(min_value=1, help_text="The plan version you are looking at.")


class PlanApi(OrganizationApi):
    def organization_queryset(self):
        return Plan.objects.all()

    def plan(self, pk: int) -> Plan:
        try:
            return plan_get(organization=self.organization, plan_id=pk)
        except Plan.DoesNotExist:
            raise Http404 from None

    def answer(self, pk: int, status_code: int = status.HTTP_200_OK) -> Response:
        # A read never writes: a plan whose worker died shows as failed until the sweep records it.
        plan = self.plan(pk).as_read(now=clock.now(), **plan_liveness())
        return Response(PlanSerializer(plan).data, status=status_code)

    def valid(self, serializer_class, data=None):
        serializer = serializer_class(data=self.request.data if data is None else data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class PlanCollectionApi(PlanApi):
    class PlanCreateInput(serializers.Serializer):
        hub_id = serializers.IntegerField()
        date = serializers.DateField()
        wave = serializers.IntegerField(min_value=1, max_value=50, required=False)
        objective = serializers.ChoiceField(choices=Objective.choices, default=Objective.COST)
        time_budget_s = serializers.IntegerField(min_value=1, max_value=600, default=5)
        allow_drop = serializers.BooleanField(default=False)

    @extend_schema(
        tags=TAG,
        operation_id="plans_list",
        summary="List plans",
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE), OpenApiParameter("hub_id", OpenApiTypes.INT)],
        responses={200: PlanSummarySerializer(many=True)},
    )
    def get(self, request):
        date = _query_date(request.query_params.get("date"))
        plans = plan_list(organization=self.organization, date=date).order_by("-date", "hub__name", "wave")
        if request.query_params.get("hub_id", "").isdigit():
            plans = plans.filter(hub_id=int(request.query_params["hub_id"]))
        page = self.paginate_queryset(plans)
        return self.get_paginated_response(PlanSummarySerializer(page, many=True).data)

    @extend_schema(
        tags=TAG,
        operation_id="plans_create",
        summary="Create a draft plan",
        request=PlanCreateInput,
        responses={201: PLAN_RESPONSE, **ERRORS},
    )
    def post(self, request):
        data = self.valid(self.PlanCreateInput)
        hub = selectors.hub_list(organization=self.organization).filter(pk=data.pop("hub_id")).first()
        if hub is None:
            raise FieldValidationError({"hub_id": ["Unknown hub."]})
        plan = plans.plan_create(actor=self.actor, hub=hub, **data)
        return self.answer(plan.pk, status.HTTP_201_CREATED)


def _query_date(value):
    if not value:
        return None
    field = serializers.DateField()
    try:
        return field.to_internal_value(value)
    except serializers.ValidationError as exc:
        raise FieldValidationError({"date": [str(m) for m in exc.detail]}) from None


class PlanDetailApi(PlanApi):
    @extend_schema(
        tags=TAG,
        operation_id="plans_retrieve",
        summary="A plan with routes, stops and progress",
        responses={200: PLAN_RESPONSE, 404: ERRORS[404]},
    )
    def get(self, request, pk):
        return self.answer(pk)


class PlanOptimizeApi(PlanApi):
    class PlanOptimizeInput(serializers.Serializer):
        expected_version = serializers.IntegerField(min_value=1, required=False)

    @extend_schema(
        tags=TAG,
        operation_id="plans_optimize",
        summary="Start optimizing (202; progress is pushed to the board)",
        request=PlanOptimizeInput,
        responses={
            202: inline_serializer(
                "PlanOptimizeAccepted",
                {
                    "plan_id": serializers.IntegerField(),
                    "task_id": serializers.CharField(),
                    "status": serializers.CharField(),
                    "version": serializers.IntegerField(),
                },
            ),
            **ERRORS,
        },
    )
    def post(self, request, pk):
        data = self.valid(self.PlanOptimizeInput)
        plan = plans.plan_optimize(actor=self.actor, plan=self.plan(pk), expected_version=data.get("expected_version"))
        body = {"plan_id": plan.pk, "task_id": plan.task_id, "status": plan.status, "version": plan.version}
        # An eager or very fast worker may already be done; report what is true now.
        current = Plan.objects.filter(pk=plan.pk).values("status", "version").first()
        body.update(current or {})
        return Response(body, status=status.HTTP_202_ACCEPTED)


class PlanOptimizeCancelApi(PlanApi):
    @extend_schema(
        tags=TAG,
        operation_id="plans_optimize_cancel",
        summary="Stop optimizing, keep the best so far",
        request=None,
        responses={200: PLAN_RESPONSE, **ERRORS},
    )
    def post(self, request, pk):
        plans.plan_optimize_cancel(actor=self.actor, plan=self.plan(pk))
        return self.answer(pk)


class PlanDispatchApi(PlanApi):
    @extend_schema(
        tags=TAG,
        operation_id="plans_dispatch",
        summary="Dispatch the plan to its drivers",
        request=VersionInput,
        responses={200: PLAN_RESPONSE, **ERRORS},
    )
    def post(self, request, pk):
        data = self.valid(VersionInput)
        plans.plan_dispatch(actor=self.actor, plan=self.plan(pk), expected_version=data["expected_version"])
        return self.answer(pk)


class StopMoveApi(PlanApi):
    class StopMoveInput(VersionInput):
        route_id = serializers.IntegerField()
        position = serializers.IntegerField(min_value=1)
        force = serializers.BooleanField(default=False)

    @extend_schema(
        tags=TAG,
        operation_id="plans_stop_move",
        summary="Move a stop to a route and position",
        request=StopMoveInput,
        responses={200: PLAN_RESPONSE, **ERRORS},
    )
    def post(self, request, pk, stop_id):
        data = self.valid(self.StopMoveInput)
        edits.stop_move(actor=self.actor, plan=self.plan(pk), stop_id=stop_id, **data)
        return self.answer(pk)


class StopUnassignApi(PlanApi):
    @extend_schema(
        tags=TAG,
        operation_id="plans_stop_unassign",
        summary="Take a stop off the plan",
        request=VersionInput,
        responses={200: PLAN_RESPONSE, **ERRORS},
    )
    def post(self, request, pk, stop_id):
        data = self.valid(VersionInput)
        edits.stop_unassign(actor=self.actor, plan=self.plan(pk), stop_id=stop_id, **data)
        return self.answer(pk)


class LockInput(VersionInput):
    locked = serializers.BooleanField()


class StopLockApi(PlanApi):
    @extend_schema(
        tags=TAG,
        operation_id="plans_stop_lock",
        summary="Lock or unlock a stop",
        request=LockInput,
        responses={200: PLAN_RESPONSE, **ERRORS},
    )
    def post(self, request, pk, stop_id):
        data = self.valid(LockInput)
        edits.stop_lock_set(actor=self.actor, plan=self.plan(pk), stop_id=stop_id, **data)
        return self.answer(pk)


class RouteLockApi(PlanApi):
    @extend_schema(
        tags=TAG,
        operation_id="plans_route_lock",
        summary="Lock or unlock a route",
        request=LockInput,
        responses={200: PLAN_RESPONSE, **ERRORS},
    )
    def post(self, request, pk, route_id):
        data = self.valid(LockInput)
        edits.route_lock_set(actor=self.actor, plan=self.plan(pk), route_id=route_id, **data)
        return self.answer(pk)


class RouteSwapApi(PlanApi):
    class RouteSwapInput(VersionInput):
        other_route_id = serializers.IntegerField()
        swap = serializers.ChoiceField(choices=["driver", "vehicle"])
        force = serializers.BooleanField(default=False)

    @extend_schema(
        tags=TAG,
        operation_id="plans_route_swap",
        summary="Swap drivers or vehicles of two routes",
        request=RouteSwapInput,
        responses={200: PLAN_RESPONSE, **ERRORS},
    )
    def post(self, request, pk, route_id):
        data = self.valid(self.RouteSwapInput)
        edits.route_swap(actor=self.actor, plan=self.plan(pk), route_id=route_id, **data)
        return self.answer(pk)


class PlanVehicleBreakdownApi(PlanApi):
    class VehicleBreakdownInput(VersionInput):
        route_id = serializers.IntegerField()

    @extend_schema(
        tags=TAG,
        operation_id="plans_vehicle_breakdown",
        summary="A vehicle broke down: move its remaining stops to the other routes",
        request=VehicleBreakdownInput,
        responses={200: PLAN_RESPONSE, **ERRORS},
    )
    def post(self, request, pk):
        data = self.valid(self.VehicleBreakdownInput)
        live.route_breakdown(actor=self.actor, plan=self.plan(pk), **data)
        return self.answer(pk)


class DriverRoutesApi(OrganizationApi):
    # The driver role may use only this endpoint: its own dispatched routes, read-only.
    allowed_roles = frozenset({Role.DRIVER})
    api_keys_allowed = False
    api_key_refusal = "Routes are read by the driver's own sign-in, not API keys."
    pagination_class = None

    def organization_queryset(self):
        return Plan.objects.all()

    @extend_schema(
        tags=["driver"],
        operation_id="driver_routes",
        summary="The signed-in driver's routes of a day",
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE, description="Default: today at the hub")],
        responses={200: DriverRoutesSerializer},
    )
    def get(self, request):
        today = driver_today(organization=self.organization, user=request.user)
        day = _query_date(request.query_params.get("date")) or today
        routes = driver_routes(organization=self.organization, user=request.user, date=day)
        return Response(DriverRoutesSerializer({"date": day, "routes": routes}).data)
