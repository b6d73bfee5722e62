"""The JSON of plans, routes and stops: one shape each, for REST, the board page and socket, the drivers.

Output only: every field is read-only and reads a model instance loaded by the selectors
(`plan_get`, `plan_list`, `driver_routes`), which fetch everything these fields touch.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.serializers import ConstantField, IsoDateTimeField
from dispatch.models import Objective, PlanStatus, StopStatus, VehicleType
from dispatch.planning.selectors import route_line

# A map line: [[lat, lng], ...] (dispatch.planning.selectors.route_line).
PATH_FIELD = serializers.ListField(
    child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2)
)


class TimeSpanSerializer(serializers.Serializer):
    """A start and an end as strings: ISO 8601 times, or HH:MM in a shift (documents stored JSON)."""

    start = serializers.CharField()
    end = serializers.CharField()


class ShiftSerializer(TimeSpanSerializer):
    breaks = TimeSpanSerializer(many=True)


@extend_schema_field(TimeSpanSerializer(many=True))
class SpansField(serializers.JSONField):
    """Stored JSON handed on as it is (a serializer would drop keys it does not know)."""


class HubSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    timezone = serializers.CharField()


class PlanProgressSerializer(serializers.Serializer):
    progress_pct = serializers.IntegerField()
    best_cost = serializers.IntegerField(allow_null=True)
    task_id = serializers.CharField()
    cancel_requested = serializers.BooleanField()
    started_at = IsoDateTimeField(allow_null=True)
    heartbeat_at = IsoDateTimeField(allow_null=True)
    finished_at = IsoDateTimeField(allow_null=True)


class PlanTotalsSerializer(serializers.Serializer):
    distance_m = serializers.IntegerField(source="total_distance_m")
    duration_s = serializers.IntegerField(source="total_duration_s")
    cost = serializers.IntegerField(source="total_cost", help_text="Cents")
    emissions_g = serializers.FloatField(source="total_emissions_g")
    stops = serializers.IntegerField(source="stop_count")
    unassigned = serializers.IntegerField(source="unassigned_count")


class PlanSummarySerializer(serializers.Serializer):
    """A plan without its routes: the plan list, the board socket's snapshot, the head of a plan."""

    id = serializers.IntegerField()
    hub = HubSummarySerializer()
    date = serializers.DateField()
    wave = serializers.IntegerField()
    objective = serializers.ChoiceField(choices=Objective.choices)
    time_budget_s = serializers.IntegerField()
    allow_drop = serializers.BooleanField()
    status = serializers.ChoiceField(choices=PlanStatus.choices)
    version = serializers.IntegerField()
    progress = PlanProgressSerializer(source="*")
    error = serializers.CharField()
    message = serializers.CharField()
    dispatched_at = IsoDateTimeField(allow_null=True)
    totals = PlanTotalsSerializer(source="*")


class OrderLoadSerializer(serializers.Serializer):
    kg = serializers.FloatField(source="load_kg")
    m3 = serializers.FloatField(source="load_m3")
    parcels = serializers.IntegerField(source="load_parcels")


class StopSerializer(serializers.Serializer):
    """A stop of a route with what the driver and the board need of its order."""

    id = serializers.IntegerField()
    order_id = serializers.IntegerField()
    merchant_reference = serializers.CharField(source="order.merchant_reference")
    sequence = serializers.IntegerField()
    status = serializers.ChoiceField(choices=StopStatus.choices)
    locked = serializers.BooleanField()
    planned_arrival = IsoDateTimeField()
    planned_departure = IsoDateTimeField()
    customer_name = serializers.CharField(source="order.customer_name")
    address = serializers.CharField(source="order.address_text")
    lat = serializers.FloatField(source="order.lat", allow_null=True)
    lng = serializers.FloatField(source="order.lng", allow_null=True)
    time_windows = SpansField(source="order.time_windows")
    instructions = serializers.CharField(source="order.instructions")
    load = OrderLoadSerializer(source="order")


class RouteVehicleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    type = serializers.ChoiceField(choices=VehicleType.choices)


class RouteDriverSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RouteLoadSerializer(serializers.Serializer):
    kg = serializers.IntegerField(source="load_kg")
    dm3 = serializers.IntegerField(source="load_dm3")
    parcels = serializers.IntegerField(source="load_parcels")


class VehicleCapacitySerializer(serializers.Serializer):
    kg = serializers.FloatField(source="capacity_kg")
    dm3 = serializers.SerializerMethodField()
    parcels = serializers.IntegerField(source="capacity_parcels")

    def get_dm3(self, vehicle) -> int:
        return round(vehicle.capacity_m3 * 1000)


class RouteSerializer(serializers.Serializer):
    """A route with its stops in order (dropped stops are left out by the selectors)."""

    id = serializers.IntegerField()
    color = serializers.CharField()
    vehicle = RouteVehicleSerializer()
    driver = RouteDriverSerializer(allow_null=True)
    locked = serializers.BooleanField()
    broken_down = serializers.BooleanField()
    distance_m = serializers.IntegerField()
    duration_s = serializers.IntegerField()
    cost = serializers.IntegerField(help_text="Cents")
    emissions_g = serializers.FloatField()
    load = RouteLoadSerializer(source="*")
    capacity = VehicleCapacitySerializer(source="vehicle")
    start_time = IsoDateTimeField(allow_null=True)
    end_time = IsoDateTimeField(allow_null=True)
    shift = serializers.SerializerMethodField()
    breaks = SpansField()
    violations = serializers.ListField(child=serializers.CharField())
    stops = StopSerializer(many=True)
    path = serializers.SerializerMethodField(
        help_text="[[lat, lng], ...] from the hub through the stops and back: along the roads when road data is on"
    )

    @extend_schema_field(ShiftSerializer(allow_null=True))
    def get_shift(self, route) -> dict | None:
        return route.driver.shift_on(route.plan.date) if route.driver else None

    @extend_schema_field(PATH_FIELD)
    def get_path(self, route) -> list:
        return route_line(route)


class UnassignedSerializer(serializers.Serializer):
    order_id = serializers.IntegerField()
    merchant_reference = serializers.CharField(source="order.merchant_reference")
    reason = serializers.CharField()
    message = serializers.CharField()
    lat = serializers.FloatField(source="order.lat", allow_null=True)
    lng = serializers.FloatField(source="order.lng", allow_null=True)


class PlanSerializer(PlanSummarySerializer):
    """The whole plan: the REST answer of every plan operation and the board page's state."""

    routes = RouteSerializer(many=True)
    unassigned = UnassignedSerializer(many=True)


class DriverRouteSerializer(RouteSerializer):
    plan_id = serializers.IntegerField()
    hub = serializers.CharField(source="plan.hub.name", help_text="The hub's name")
    wave = serializers.IntegerField(source="plan.wave")


class DriverRoutesSerializer(serializers.Serializer):
    """`{"date": ..., "routes": [...]}`: a driver's day."""

    date = serializers.DateField()
    routes = DriverRouteSerializer(many=True)


class BoardSnapshotSerializer(serializers.Serializer):
    """What the dispatch board socket sends on connect: `{"hub_id": ..., "plans": [...]}`."""

    type = ConstantField("board.snapshot")
    hub_id = serializers.IntegerField()
    plans = PlanSummarySerializer(many=True)
