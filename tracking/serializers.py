"""Tracking's shapes: a fix sent by a phone (input), and what the tower, the board and the
customer's page are sent (output: the snapshots, drivers on the map, exceptions, KPIs).

The output serializers read what the selectors return (`tracking/selectors/`): model instances
with everything they touch already fetched, `DriverOnMap` values, and the KPI aggregates.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from common.serializers import ConstantField, IsoDateTimeField
from dispatch.models import StopStatus
from dispatch.planning.selectors import route_line
from dispatch.planning.serializers import PATH_FIELD, HubSummarySerializer
from orders.lifecycle import OrderStatus
from tracking.models import ExceptionKind, ExceptionStatus, Severity
from tracking.selectors.tower import stop_state


class FixSerializer(serializers.Serializer):
    recorded_at = serializers.DateTimeField()
    # Ranges are checked by the service so that one bad fix is rejected alone, with a reason.
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    accuracy_m = serializers.FloatField(required=False, allow_null=True, default=None)
    speed_mps = serializers.FloatField(required=False, allow_null=True, default=None)
    heading_deg = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0, max_value=360)
    battery_pct = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0, max_value=100)


class DriverPositionSerializer(serializers.Serializer):
    """A driver on the staff's maps (tower snapshot); pushes add `next_stop_id` and `next_order_id`."""

    type = ConstantField("driver.position")
    driver_id = serializers.IntegerField(source="driver.pk")
    driver_name = serializers.CharField(source="driver.name")
    hub_id = serializers.IntegerField(allow_null=True)
    route_id = serializers.IntegerField(allow_null=True)
    recorded_at = IsoDateTimeField(source="fix.recorded_at")
    lat = serializers.FloatField(source="fix.lat")
    lng = serializers.FloatField(source="fix.lng")
    accuracy_m = serializers.FloatField(source="fix.accuracy_m", allow_null=True)
    speed_mps = serializers.FloatField(source="fix.speed_mps", allow_null=True)
    heading_deg = serializers.FloatField(source="fix.heading_deg", allow_null=True)
    battery_pct = serializers.FloatField(source="fix.battery_pct", allow_null=True)


class DriverPositionPushSerializer(DriverPositionSerializer):
    """The shape of each position pushed to the tower and the board (`services/positions.py` builds it)."""

    next_stop_id = serializers.IntegerField(allow_null=True)
    next_order_id = serializers.IntegerField(allow_null=True)


class CustomerDriverSerializer(serializers.Serializer):
    """What a customer may see of the driver: a first name and a point, nothing else."""

    driver_first_name = serializers.CharField(source="driver.first_name")
    lat = serializers.FloatField(source="fix.lat")
    lng = serializers.FloatField(source="fix.lng")
    heading_deg = serializers.FloatField(source="fix.heading_deg", allow_null=True)
    recorded_at = IsoDateTimeField(source="fix.recorded_at")


class TrackingSnapshotSerializer(serializers.Serializer):
    """The customer's page on load and on (re)connect: status, ETA window, the driver when heading here."""

    type = ConstantField("snapshot")
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    eta_window_start = IsoDateTimeField(source="eta.window_start", allow_null=True)
    eta_window_end = IsoDateTimeField(source="eta.window_end", allow_null=True)
    driver = CustomerDriverSerializer(allow_null=True)
    path = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        help_text="[[lat, lng], ...] from the driver to this stop, while the driver shows; else []",
    )


class DeliveryExceptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ExceptionKind.choices)
    severity = serializers.ChoiceField(choices=Severity.choices)
    status = serializers.ChoiceField(choices=ExceptionStatus.choices)
    message = serializers.CharField()
    suggested_actions = serializers.ListField(child=serializers.CharField())
    order_id = serializers.IntegerField(allow_null=True)
    route_id = serializers.IntegerField(allow_null=True)
    driver_id = serializers.IntegerField(allow_null=True)
    assigned_to = serializers.CharField(source="assigned_to.username", allow_null=True, help_text="A username")
    created_at = IsoDateTimeField()


class KpisSerializer(serializers.Serializer):
    delivered = serializers.IntegerField()
    failed = serializers.IntegerField()
    pending = serializers.IntegerField()
    on_time_pct = serializers.FloatField(allow_null=True)
    late_risk = serializers.IntegerField()


class KpiDaySerializer(serializers.Serializer):
    """A day's KPIs overall (`all`) and per hub (`hubs`, keyed by hub id)."""

    all = KpisSerializer()
    hubs = serializers.DictField(child=KpisSerializer())


class KpisMessageSerializer(serializers.Serializer):
    """The KPIs pushed to the tower as orders close and stops turn late."""

    type = ConstantField("kpis")
    date = serializers.DateField()
    kpis = KpiDaySerializer()


def _eta(stop):
    return getattr(stop, "eta", None)


class TowerStopSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order_id = serializers.IntegerField()
    reference = serializers.CharField(source="order.merchant_reference")
    sequence = serializers.IntegerField()
    lat = serializers.FloatField(source="order.lat", allow_null=True)
    lng = serializers.FloatField(source="order.lng", allow_null=True)
    status = serializers.ChoiceField(choices=StopStatus.choices)
    order_status = serializers.ChoiceField(source="order.status", choices=OrderStatus.choices)
    state = serializers.SerializerMethodField(help_text="delivered, failed, late, in_progress or planned")
    planned_arrival = IsoDateTimeField()
    eta = IsoDateTimeField(source="eta.eta", allow_null=True)
    late = serializers.SerializerMethodField()

    def get_state(self, stop) -> str:
        return stop_state(stop, _eta(stop))

    def get_late(self, stop) -> bool:
        stop_eta = _eta(stop)
        return bool(stop_eta and stop_eta.late)


class TowerRouteSerializer(serializers.Serializer):
    """A dispatched route as the tower draws it: progress and the live state of each stop."""

    id = serializers.IntegerField()
    plan_id = serializers.IntegerField()
    hub_id = serializers.IntegerField(source="plan.hub_id")
    color = serializers.CharField()
    driver_id = serializers.IntegerField(allow_null=True)
    driver_name = serializers.CharField(source="driver.name", allow_null=True)
    vehicle = serializers.CharField(source="vehicle.name")
    done = serializers.SerializerMethodField(help_text="Stops delivered or failed")
    total = serializers.SerializerMethodField()
    stops = TowerStopSerializer(many=True)
    path = serializers.SerializerMethodField(
        help_text="[[lat, lng], ...] from the hub through the stops and back: along the roads when road data is on"
    )

    def get_done(self, route) -> int:
        return sum(1 for stop in route.stops.all() if stop_state(stop, _eta(stop)) in ("delivered", "failed"))

    def get_total(self, route) -> int:
        return len(route.stops.all())

    @extend_schema_field(PATH_FIELD)
    def get_path(self, route) -> list:
        return route_line(route)


class TowerSnapshotSerializer(serializers.Serializer):
    """Everything the control tower draws on load and on (re)connect; pushes then keep it current."""

    type = ConstantField("snapshot")
    date = serializers.DateField()
    hubs = HubSummarySerializer(many=True)
    drivers = DriverPositionSerializer(many=True)
    routes = TowerRouteSerializer(many=True)
    kpis = KpiDaySerializer()
    exceptions = DeliveryExceptionSerializer(many=True)
