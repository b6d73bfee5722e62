"""Shapes shared by the REST batch endpoint and the driver socket (one fix, validated the same way)."""

from rest_framework import serializers


class FixSerializer(serializers.Serializer):
    recorded_at = serializers.DateTimeField()
    # Ranges are checked by the service so that one bad fix is rejected alone, with a reason.
    lat = serializers.FloatField()
    lng = serializers.FloatField()
    accuracy_m = serializers.FloatField(required=False, allow_null=True, default=None)
    speed_mps = serializers.FloatField(required=False, allow_null=True, default=None)
    heading_deg = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0, max_value=360)
    battery_pct = serializers.FloatField(required=False, allow_null=True, default=None, min_value=0, max_value=100)
