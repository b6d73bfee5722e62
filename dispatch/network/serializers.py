import re

from rest_framework import serializers

from dispatch.models import WEEKDAYS, Driver, DriverShiftOverride, Hub, Vehicle

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class OrganizationHubField(serializers.SlugRelatedField):
    """A hub of the caller's organization, referenced by code."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="code", **kwargs)

    def get_queryset(self):
        return Hub.objects.filter(organization=self.context["organization"])


def _check_span(value, label: str) -> tuple[str, str]:
    if (
        not isinstance(value, dict)
        or not HHMM.match(str(value.get("start", "")))
        or not HHMM.match(str(value.get("end", "")))
    ):
        raise serializers.ValidationError(f"{label} needs 'start' and 'end' as HH:MM.")
    if value["end"] <= value["start"]:
        raise serializers.ValidationError(f"{label} must end after it starts.")
    return value["start"], value["end"]


class HubSerializer(serializers.ModelSerializer):
    class Meta:
        model = Hub
        fields = [
            "id",
            "code",
            "name",
            "address",
            "lat",
            "lng",
            "timezone",
            "opening_hours",
            "service_radius_km",
            "service_polygon",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]

    def validate_opening_hours(self, value):
        if not isinstance(value, dict) or set(value) - set(WEEKDAYS):
            raise serializers.ValidationError(f"Use weekday keys {', '.join(WEEKDAYS)}.")
        for day, spans in value.items():
            if not isinstance(spans, list):
                raise serializers.ValidationError(f'{day}: a list of ["HH:MM", "HH:MM"] pairs.')
            for span in spans:
                if not isinstance(span, list | tuple) or len(span) != 2:
                    raise serializers.ValidationError(f'{day}: each span is ["HH:MM", "HH:MM"].')
                _check_span({"start": span[0], "end": span[1]}, f"{day} opening hours")
        return value

    def validate_service_polygon(self, value):
        if value in (None, []):
            return None
        valid = (
            isinstance(value, list)
            and len(value) >= 3
            and all(
                isinstance(p, list | tuple) and len(p) == 2 and -90 <= p[0] <= 90 and -180 <= p[1] <= 180 for p in value
            )
        )
        if not valid:
            raise serializers.ValidationError("At least three [lat, lng] points.")
        return value

    def validate(self, attrs):
        radius = attrs.get("service_radius_km", getattr(self.instance, "service_radius_km", None))
        polygon = attrs.get("service_polygon", getattr(self.instance, "service_polygon", None))
        if radius is None and not polygon:
            raise serializers.ValidationError({"service_radius_km": ["Give a service radius or a polygon."]})
        return attrs


SKILLS = serializers.ListField(
    child=serializers.RegexField(r"^[a-z0-9][a-z0-9_-]{0,39}$"), required=False, max_length=20
)


class VehicleSerializer(serializers.ModelSerializer):
    home_hub = OrganizationHubField()
    skills = SKILLS

    class Meta:
        model = Vehicle
        fields = [
            "id",
            "name",
            "type",
            "electric",
            "capacity_kg",
            "capacity_m3",
            "capacity_parcels",
            "cost_fixed_per_day",
            "cost_per_km",
            "cost_per_hour",
            "emissions_g_co2_per_km",
            "range_km",
            "skills",
            "home_hub",
            "active",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


class ShiftOverrideSerializer(serializers.ModelSerializer):
    class Meta:
        model = DriverShiftOverride
        fields = ["date", "off", "start", "end", "breaks"]

    def validate_breaks(self, value):
        if not isinstance(value, list):
            raise serializers.ValidationError("A list of {start, end} objects.")
        for brk in value:
            _check_span(brk, "A break")
        return value

    def validate(self, attrs):
        if not attrs.get("off") and (attrs.get("start") is None or attrs.get("end") is None):
            raise serializers.ValidationError({"start": ["A working day needs a start and an end; or set off."]})
        if attrs.get("start") and attrs.get("end") and attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": ["The shift must end after it starts."]})
        return attrs


class DriverSerializer(serializers.ModelSerializer):
    home_hub = OrganizationHubField()
    skills = SKILLS
    shift_overrides = ShiftOverrideSerializer(many=True, read_only=True)

    class Meta:
        model = Driver
        fields = [
            "id",
            "name",
            "phone",
            "home_hub",
            "skills",
            "weekly_shifts",
            "shift_overrides",
            "active",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]

    def validate_weekly_shifts(self, value):
        if not isinstance(value, dict) or set(value) - set(WEEKDAYS):
            raise serializers.ValidationError(f"Use weekday keys {', '.join(WEEKDAYS)}.")
        for day, shift in value.items():
            start, end = _check_span(shift, f"{day} shift")
            for brk in shift.get("breaks", []):
                b_start, b_end = _check_span(brk, f"{day} break")
                if b_start < start or b_end > end:
                    raise serializers.ValidationError(f"{day}: a break must lie inside the shift.")
        return value
