"""Shapes of route execution: the phone's actions and what the driver app reads."""

from rest_framework import serializers

from dispatch.models import ActionKind, FailureReason

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
