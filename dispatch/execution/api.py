"""The driver app's API: today's route, the synced actions, single actions, contacting the customer.

Drivers act on their own routes; dispatchers and admins may record a single action for a driver
(the history names them, `source` dispatcher). API keys never execute: a merchant was not at the
door (403 `transition_not_permitted`, as for orders).
"""


from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from accounts.models import ApiKey, Role
from accounts.tenancy import OrganizationApi
from common import clock
from dispatch.execution import serializers as shapes
from dispatch.execution.errors import ExecutionNotPermitted, NoDriverProfile
from dispatch.execution.selectors import (
    driver_day,
    driver_for_user,
    driver_route_current,
    stop_for_organization,
)
from dispatch.execution.services import stops as execution
from dispatch.execution.services.actions import action_apply
from dispatch.execution.services.contact import stop_customer_contact
from dispatch.models import ArrivalSource, Driver, Stop

TAG = ["driver"]
STOP_ERRORS = {
    404: OpenApiResponse(description="No such stop in your organization (drivers: on your routes)"),
    409: OpenApiResponse(
        description="invalid_stop_transition, order_cancelled, route_not_dispatched, delivery_code_wrong, "
        "delivery_code_locked"
    ),
    422: OpenApiResponse(description="proof_required: details.missing names what the order asks for and lacks"),
}


class DriverApi(OrganizationApi):
    """The signed-in driver's own endpoints."""

    allowed_roles = frozenset({Role.DRIVER})
    write_roles = frozenset({Role.DRIVER})
    api_keys_allowed = False
    api_key_refusal = "The driver app is used with the driver's own sign-in, not API keys."
    pagination_class = None

    def organization_queryset(self):
        return Driver.objects.all()

    def driver(self) -> Driver:
        driver = driver_for_user(organization=self.organization, user=self.request.user)
        if driver is None:
            raise NoDriverProfile()
        return driver

    def valid(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class DriverTodayApi(DriverApi):
    @extend_schema(
        tags=TAG,
        operation_id="driver_today",
        summary="The signed-in driver's route today at their home hub, with every stop to serve",
        responses={200: shapes.DriverTodaySerializer},
    )
    def get(self, request):
        driver = self.driver()
        now = clock.now()
        today = driver_day(driver=driver, now=now)
        route = driver_route_current(driver=driver, date=today)
        body = {"date": today, "server_time": now, "driver": driver, "route": route}
        return Response(shapes.DriverTodaySerializer(body).data)


class DriverActionsApi(DriverApi):
    @extend_schema(
        tags=TAG,
        operation_id="driver_actions_sync",
        summary="Apply the phone's queued actions, each exactly once (its client_id is the key)",
        description=(
            "Actions are applied in the order given; each gets a result. A rejection is final for its "
            "client_id (order_cancelled, stop_reassigned, invalid_stop_transition, proof_required, "
            "invalid_action); a replayed client_id answers the stored result with `replayed: true`."
        ),
        request=shapes.ActionsInput,
        responses={200: shapes.ActionsOutput},
    )
    def post(self, request):
        actions = self.valid(shapes.ActionsBatch)["actions"]
        driver = self.driver()
        results = [action_apply(actor=self.actor, driver=driver, action=action) for action in actions]
        return Response({"results": results})


class StopActionApi(OrganizationApi):
    """One action on one stop: the driver on their own stop, or a dispatcher or admin acting for them."""

    allowed_roles = frozenset({Role.DRIVER, Role.DISPATCHER, Role.ADMIN})
    write_roles = frozenset({Role.DRIVER, Role.DISPATCHER, Role.ADMIN})
    pagination_class = None
    input_class = shapes.FixInput

    def organization_queryset(self):
        return Driver.objects.all()

    def check_permissions(self, request):
        if isinstance(request.auth, ApiKey):
            raise ExecutionNotPermitted()
        super().check_permissions(request)

    def stop(self, pk: int) -> Stop:
        stop = stop_for_organization(organization_id=self.organization.pk, stop_id=pk)
        if stop is None:
            raise Http404
        if self.actor.role == Role.DRIVER and (
            stop.route.driver is None or stop.route.driver.user_id != self.actor.user.pk
        ):
            raise Http404
        return stop

    def perform(self, fix: dict, payload: dict) -> Stop:
        raise NotImplementedError

    def post(self, request, pk):
        serializer = self.input_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        stop = self.stop(pk)
        acting_driver = self.actor.role == Role.DRIVER
        fix = {
            "actor": self.actor,
            "stop": stop,
            "at": data.pop("device_at", None) or clock.now(),
            "lat": data.pop("lat", None),
            "lng": data.pop("lng", None),
            "accuracy_m": data.pop("accuracy_m", None),
            "source": ArrivalSource.DRIVER if acting_driver else ArrivalSource.DISPATCHER,
            # A driver acts on the route they hold; a dispatcher records for whoever holds it.
            "driver": stop.route.driver if acting_driver else None,
        }
        self.perform(fix, data.get("payload") or {})
        stop = stop_for_organization(organization_id=self.organization.pk, stop_id=stop.pk)
        return Response(shapes.TodayStopSerializer(stop).data)


def _stop_schema(operation_id: str, summary: str, request):
    return extend_schema(
        tags=TAG,
        operation_id=operation_id,
        summary=summary,
        request=request,
        responses={200: shapes.TodayStopSerializer, **STOP_ERRORS},
    )


class StopArriveApi(StopActionApi):
    @_stop_schema("stop_arrive", "Arrived at the stop (idempotent)", shapes.FixInput)
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, fix, payload):
        return execution.stop_arrive(**fix)


class StopCompleteApi(StopActionApi):
    input_class = shapes.CompleteInput

    @_stop_schema("stop_complete", "Delivered, with the proofs the order asks for", shapes.CompleteInput)
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, fix, payload):
        defaults = shapes.CompletePayload(data={})
        defaults.is_valid()
        return execution.stop_complete(**fix, **{**defaults.validated_data, **payload})


class StopFailApi(StopActionApi):
    input_class = shapes.FailInput

    @_stop_schema("stop_fail", "Attempted and not delivered, with a reason", shapes.FailInput)
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, fix, payload):
        return execution.stop_fail(**fix, **payload)


class StopSkipApi(StopActionApi):
    input_class = shapes.SkipInput

    @_stop_schema("stop_skip", "Not attempted, with a reason", shapes.SkipInput)
    def post(self, request, pk):
        return super().post(request, pk)

    def perform(self, fix, payload):
        return execution.stop_skip(**fix, **payload)


class DriverStopContactApi(DriverApi):
    @extend_schema(
        tags=TAG,
        operation_id="driver_stop_contact",
        summary="Call or message the stop's customer through the contact provider",
        description=(
            "The default provider logs the request and answers `connect_to: tel:<number>`; production "
            "providers (WAYPOINT_CONTACT_PROVIDER) answer a masked proxy number instead."
        ),
        request=shapes.ContactInput,
        responses={
            200: shapes.ContactOutput,
            404: OpenApiResponse(description="No such stop on your routes"),
            409: OpenApiResponse(description="contact_unavailable: the stop is over, or no phone number"),
        },
    )
    def post(self, request, pk):
        data = self.valid(shapes.ContactInput)
        driver = self.driver()
        stop = stop_for_organization(organization_id=self.organization.pk, stop_id=pk)
        if stop is None or stop.route.driver_id != driver.pk:
            raise Http404
        result = stop_customer_contact(actor=self.actor, stop=stop, **data)
        return Response({"channel": data["channel"], "status": result.status, "connect_to": result.connect_to})
