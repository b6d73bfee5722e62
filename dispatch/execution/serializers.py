"""Shapes of route execution: the phone's actions and what the driver app reads."""

from django.core.exceptions import ObjectDoesNotExist
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dispatch.models import ActionKind, FailureReason, StopStatus
from dispatch.planning.selectors import route_line
from dispatch.planning.serializers import PATH_FIELD
from orders.models import ProofOfDelivery
from orders.services import order_delivery_code_attempts_left, order_proofs_required

# The kinds the app sends; the geofence's are made by the server only.
APP_KINDS = [
    ActionKind.START_SHIFT,
    ActionKind.DEPART,
    ActionKind.ARRIVE,
    ActionKind.COMPLETE,
    ActionKind.FAIL,
    ActionKind.SKIP,
    ActionKind.END_SHIFT,
]
STOP_KINDS = frozenset({ActionKind.DEPART, ActionKind.ARRIVE, ActionKind.COMPLETE, ActionKind.FAIL, ActionKind.SKIP})
PROOF_ID = {"max_length": 64}


class StartShiftPayload(serializers.Serializer):
    vehicle_ok = serializers.BooleanField(default=True)
    vehicle_notes = serializers.CharField(max_length=500, allow_blank=True, default="")
    parcels_loaded = serializers.IntegerField(min_value=0, max_value=100000, required=False, allow_null=True)


class ItemSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=100)
    quantity = serializers.IntegerField(min_value=1, max_value=10000, default=1)


class CompletePayload(serializers.Serializer):
    signature = serializers.CharField(required=False, allow_null=True, allow_blank=True, **PROOF_ID)
    photos = serializers.ListField(child=serializers.CharField(**PROOF_ID), max_length=20, default=list)
    code = serializers.CharField(max_length=16, allow_blank=True, default="")
    recipient_name = serializers.CharField(max_length=200, allow_blank=True, default="")
    cash_collected = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    items = serializers.ListField(child=ItemSerializer(), max_length=200, default=list)
    damage_note = serializers.CharField(max_length=500, allow_blank=True, default="")


class ReasonPayload(serializers.Serializer):
    reason = serializers.ChoiceField(choices=FailureReason.choices)
    note = serializers.CharField(max_length=500, allow_blank=True, default="")

    def validate(self, attrs):
        if attrs["reason"] == FailureReason.OTHER and not attrs["note"].strip():
            raise serializers.ValidationError({"note": ["Say what happened when the reason is 'other'."]})
        return attrs


class FailPayload(ReasonPayload):
    photos = serializers.ListField(child=serializers.CharField(**PROOF_ID), max_length=20, default=list)


PAYLOADS = {
    ActionKind.START_SHIFT: StartShiftPayload,
    ActionKind.COMPLETE: CompletePayload,
    ActionKind.FAIL: FailPayload,
    ActionKind.SKIP: ReasonPayload,
}


class ActionSerializer(serializers.Serializer):
    """One action as the phone recorded it; `client_id` is its idempotency key."""

    client_id = serializers.CharField(max_length=64)
    kind = serializers.ChoiceField(choices=APP_KINDS)
    stop_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, allow_null=True)
    route_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, allow_null=True)
    device_at = serializers.DateTimeField(help_text="The phone's clock when the action was recorded")
    lat = serializers.FloatField(min_value=-90, max_value=90, required=False, allow_null=True)
    lng = serializers.FloatField(min_value=-180, max_value=180, required=False, allow_null=True)
    accuracy_m = serializers.FloatField(min_value=0, max_value=1e6, required=False, allow_null=True)
    payload = serializers.JSONField(required=False, default=dict)

    def validate(self, attrs):
        kind = attrs["kind"]
        if kind in STOP_KINDS and not attrs.get("stop_id"):
            raise serializers.ValidationError({"stop_id": ["This action needs the stop it is for."]})
        raw = attrs.get("payload") or {}
        if not isinstance(raw, dict):
            raise serializers.ValidationError({"payload": ["Expected an object."]})
        shape = PAYLOADS.get(kind)
        if shape is None:
            attrs["payload"] = {}
            return attrs
        payload = shape(data=raw)
        if not payload.is_valid():
            raise serializers.ValidationError({"payload": payload.errors})
        attrs["payload"] = payload.validated_data
        return attrs


class StopStateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    order_status = serializers.CharField()


class ActionResultSerializer(serializers.Serializer):
    client_id = serializers.CharField(allow_null=True)
    outcome = serializers.ChoiceField(choices=["applied", "rejected"])
    replayed = serializers.BooleanField()
    code = serializers.CharField(required=False)
    message = serializers.CharField(required=False)
    details = serializers.DictField(required=False)
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False)
    stop = StopStateSerializer(required=False)
    route = serializers.DictField(required=False)


# --- What the driver app reads (GET /api/driver/today) ---------------------------------------
class TodayOrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField(source="merchant_reference")
    type = serializers.CharField()
    status = serializers.CharField()
    customer_first_name = serializers.SerializerMethodField()
    address_text = serializers.CharField()
    lat = serializers.FloatField(allow_null=True)
    lng = serializers.FloatField(allow_null=True)
    instructions = serializers.CharField()
    access_code = serializers.CharField()
    delivery_alternative = serializers.CharField()
    delivery_alternative_detail = serializers.CharField()
    load_kg = serializers.FloatField()
    load_parcels = serializers.IntegerField()
    cash_on_delivery = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    proofs_required = serializers.SerializerMethodField()
    code_attempts_left = serializers.SerializerMethodField()

    @extend_schema_field(serializers.CharField())
    def get_customer_first_name(self, order) -> str:
        return order.customer_name.split()[0] if order.customer_name.strip() else ""

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_proofs_required(self, order) -> list[str]:
        required = order_proofs_required(order)
        return [*required, *(["cash_collected"] if order.cash_on_delivery else [])]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_code_attempts_left(self, order) -> int | None:
        if ProofOfDelivery.ONE_TIME_CODE not in order_proofs_required(order):
            return None
        return order_delivery_code_attempts_left(order)


class TodayStopSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sequence = serializers.IntegerField()
    status = serializers.CharField()
    planned_arrival = serializers.DateTimeField()
    eta = serializers.SerializerMethodField()
    window_start = serializers.DateTimeField(source="order.window_start", allow_null=True)
    window_end = serializers.DateTimeField(source="order.window_end", allow_null=True)
    arrived_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    failure_reason = serializers.CharField()
    order = TodayOrderSerializer()

    @extend_schema_field(serializers.DateTimeField())
    def get_eta(self, stop) -> str:
        # tracking keeps the live estimate (StopEta, related_name "eta"); without one, the plan's.
        try:
            eta = stop.eta.eta
        except ObjectDoesNotExist:
            eta = stop.planned_arrival
        return serializers.DateTimeField().to_representation(eta)


class TodayHubSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    lat = serializers.FloatField()
    lng = serializers.FloatField()


class TodayVehicleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    type = serializers.CharField()


class TodayProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    failed = serializers.IntegerField()
    remaining = serializers.IntegerField()


class TodayRouteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    plan_id = serializers.IntegerField()
    hub = TodayHubSerializer(source="plan.hub")
    vehicle = TodayVehicleSerializer()
    shift_started_at = serializers.DateTimeField(allow_null=True)
    shift_ended_at = serializers.DateTimeField(allow_null=True)
    start_time = serializers.DateTimeField(allow_null=True)
    end_time = serializers.DateTimeField(allow_null=True)
    progress = serializers.SerializerMethodField()
    stops = TodayStopSerializer(many=True, source="stops.all")
    path = serializers.SerializerMethodField(
        help_text="[[lat, lng], ...] from the hub through the stops and back: along the roads when road data is on"
    )

    @extend_schema_field(PATH_FIELD)
    def get_path(self, route) -> list:
        return route_line(route)

    @extend_schema_field(TodayProgressSerializer)
    def get_progress(self, route) -> dict:
        statuses = [stop.status for stop in route.stops.all()]
        done = statuses.count(StopStatus.DONE)
        failed = statuses.count(StopStatus.FAILED) + statuses.count(StopStatus.SKIPPED)
        return {"done": done, "failed": failed, "remaining": len(statuses) - done - failed}


class TodayDriverSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DriverTodaySerializer(serializers.Serializer):
    date = serializers.DateField()
    server_time = serializers.DateTimeField()
    driver = TodayDriverSerializer()
    route = TodayRouteSerializer(allow_null=True)


# --- The single-action endpoints (POST /api/stops/{id}/...) ------------------------------------
class FixInput(serializers.Serializer):
    device_at = serializers.DateTimeField(required=False, help_text="The phone's clock; default: now")
    lat = serializers.FloatField(min_value=-90, max_value=90, required=False, allow_null=True)
    lng = serializers.FloatField(min_value=-180, max_value=180, required=False, allow_null=True)
    accuracy_m = serializers.FloatField(min_value=0, max_value=1e6, required=False, allow_null=True)


class CompleteInput(FixInput):
    payload = CompletePayload(required=False)


class FailInput(FixInput):
    payload = FailPayload()


class SkipInput(FixInput):
    payload = ReasonPayload()


MAX_ACTIONS = 500


class ActionsInput(serializers.Serializer):
    """The documented body; each action is checked on its own (`ActionsBatch`), so one bad item
    is answered as that item's rejection and never blocks the rest of the phone's queue."""

    actions = serializers.ListField(
        child=ActionSerializer(), max_length=MAX_ACTIONS, help_text="Actions in the order the phone recorded them"
    )


class ActionsBatch(serializers.Serializer):
    actions = serializers.ListField(child=serializers.JSONField(), max_length=MAX_ACTIONS)


class ActionsOutput(serializers.Serializer):
    results = ActionResultSerializer(many=True)


class ContactInput(serializers.Serializer):
    channel = serializers.ChoiceField(choices=["call", "sms"])
    message = serializers.CharField(max_length=500, allow_blank=True, default="")


class ContactOutput(serializers.Serializer):
    channel = serializers.CharField()
    status = serializers.CharField()
    connect_to = serializers.CharField()
