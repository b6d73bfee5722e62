"""Shapes of the orders API: nested input serializers with field-level validation only."""

from django.conf import settings
from rest_framework import serializers

from common import horizon
from common.languages import CUSTOMER_LANGUAGE_CODES, CUSTOMER_LANGUAGES
from common.validation import InputCheckSerializer
from orders.lifecycle import OrderStatus
from orders.models import Order, OrderType, ProofOfDelivery
from orders.proofs import required_proofs

SKILL = serializers.RegexField(
    r"^[a-z0-9][a-z0-9_-]{0,39}$",
    error_messages={"invalid": "Skills are lower-case words of letters, digits, '-' or '_' (e.g. 'refrigerated')."},
)


class CustomerSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    email = serializers.EmailField(required=False, allow_blank=True, default="")


class AddressInputSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=500)
    postcode = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    country = serializers.RegexField(
        r"^[A-Za-z]{2}$",
        required=False,
        allow_blank=True,
        default="",
        error_messages={"invalid": "Use a two-letter ISO country code."},
    )
    lat = serializers.FloatField(required=False, allow_null=True, default=None, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, allow_null=True, default=None, min_value=-180, max_value=180)

    def validate(self, attrs):
        if (attrs.get("lat") is None) != (attrs.get("lng") is None):
            raise serializers.ValidationError({"lat": ["Send both lat and lng, or neither."]})
        attrs["country"] = attrs.get("country", "").upper()
        return attrs


class TimeWindowSerializer(InputCheckSerializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()

    def check_input(self, data):
        for key in ("start", "end"):
            value = data.get(key) if isinstance(data, dict) else None
            if isinstance(value, str) and not _has_offset(value):
                raise serializers.ValidationError(
                    {key: ["Give the time with a UTC offset, e.g. 2026-11-25T09:00:00+02:00."]}
                )

    def validate(self, attrs):
        if attrs["end"] <= attrs["start"]:
            raise serializers.ValidationError({"end": ["The window must end after it starts."]})
        if errors := horizon.window_problems(attrs["start"], attrs["end"]):
            raise serializers.ValidationError(errors)
        return attrs


def _has_offset(value: str) -> bool:
    tail = value[10:]
    return tail.endswith("Z") or "+" in tail or tail.count("-") >= 1


class LoadSerializer(serializers.Serializer):
    kg = serializers.FloatField(min_value=0, max_value=100_000, default=0)
    m3 = serializers.FloatField(min_value=0, max_value=1_000, default=0)
    parcels = serializers.IntegerField(min_value=0, max_value=10_000, default=1)


class HubCodeField(serializers.CharField):
    """A hub of the caller's organization, by code; the view passes the organization's hubs."""

    def to_internal_value(self, data):
        code = super().to_internal_value(data)
        hub = self.context["hubs"].get(code)
        if hub is None:
            raise serializers.ValidationError(f"Unknown hub '{code}'.")
        return hub


class OrderWriteSerializer(serializers.Serializer):
    merchant_reference = serializers.CharField(max_length=100)
    type = serializers.ChoiceField(choices=OrderType.choices, default=OrderType.DELIVERY)
    hub = HubCodeField(required=False, allow_null=True, default=None)
    customer = CustomerSerializer()
    address = AddressInputSerializer()
    time_windows = TimeWindowSerializer(many=True, min_length=1, max_length=5)
    service_minutes = serializers.FloatField(min_value=0, max_value=480, default=3)
    load = LoadSerializer(default=lambda: {"kg": 0, "m3": 0, "parcels": 1})
    priority = serializers.IntegerField(min_value=0, max_value=100, default=0)
    required_skills = serializers.ListField(child=SKILL, max_length=20, default=list)
    proof_of_delivery = serializers.ListField(
        child=serializers.ChoiceField(choices=ProofOfDelivery.choices), max_length=3, default=list
    )
    cash_on_delivery = serializers.DecimalField(
        max_digits=10, decimal_places=2, min_value=0, required=False, allow_null=True, default=None
    )
    instructions = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    access_code = serializers.CharField(
        max_length=64, required=False, allow_blank=True, default="", help_text="Door or gate code, for the driver"
    )
    language = serializers.ChoiceField(
        choices=CUSTOMER_LANGUAGES,
        required=False,
        allow_blank=True,
        default="",
        help_text="The language of the customer's messages; blank: the organisation's.",
        error_messages={
            "invalid_choice": f"Unknown language '{{input}}': use one of {', '.join(CUSTOMER_LANGUAGE_CODES)}, "
            "or leave it blank for the organisation's language."
        },
    )

    def validate_time_windows(self, windows):
        ordered = sorted(windows, key=lambda w: w["start"])
        for earlier, later in zip(ordered, ordered[1:], strict=False):
            if later["start"] < earlier["end"]:
                raise serializers.ValidationError("Time windows must not overlap.")
        return windows

    def validate_proof_of_delivery(self, value):
        return sorted(set(value))


class OrderCreateSerializer(OrderWriteSerializer):
    slot_hold = serializers.IntegerField(
        required=False,
        help_text="A slot hold from /api/slots/holds: its window becomes the order's and the hold is "
        "confirmed (time_windows and hub may then be left out).",
    )


class OrderUpdateSerializer(OrderWriteSerializer):
    """PATCH: every field optional, no defaults, and the merchant reference is fixed."""

    def __init__(self, *args, **kwargs):
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)
        self.fields.pop("merchant_reference")
        for field in self.fields.values():
            field.required = False
            field.default = serializers.empty


class BulkOrderSerializer(serializers.Serializer):
    orders = serializers.ListField(child=serializers.DictField(), allow_empty=False)

    def validate_orders(self, value):
        limit = settings.WAYPOINT_BULK_MAX_ORDERS
        if len(value) > limit:
            raise serializers.ValidationError(f"At most {limit} orders per request; split the batch.")
        return value


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    lat = serializers.FloatField(min_value=-90, max_value=90, required=False, allow_null=True, default=None)
    lng = serializers.FloatField(min_value=-180, max_value=180, required=False, allow_null=True, default=None)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class OrderOutputSerializer(serializers.ModelSerializer):
    hub = serializers.SlugRelatedField(slug_field="code", read_only=True)
    customer = serializers.SerializerMethodField()
    address = serializers.SerializerMethodField()
    load = serializers.SerializerMethodField()
    tracking_url = serializers.SerializerMethodField()
    proofs_required = serializers.SerializerMethodField(
        help_text="What the driver must capture to deliver: the order's proof_of_delivery, else the "
        "organization's default, plus cash when there is an amount to collect"
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "merchant_reference",
            "type",
            "status",
            "hub",
            "customer",
            "address",
            "time_windows",
            "delivery_date",
            "service_minutes",
            "load",
            "priority",
            "required_skills",
            "proof_of_delivery",
            "proofs_required",
            "cash_on_delivery",
            "instructions",
            "access_code",
            "language",
            "tracking_token",
            "tracking_url",
            "created_at",
            "updated_at",
        ]

    def get_customer(self, order) -> dict:
        return {
            "name": order.customer_name,
            "phone": order.customer_phone,
            "email": order.customer_email,
        }

    def get_address(self, order) -> dict:
        return {
            "text": order.address_text,
            "postcode": order.postcode,
            "city": order.city,
            "country": order.country,
            "lat": order.lat,
            "lng": order.lng,
            "geocode_confidence": order.geocode_confidence,
            "geocode_source": order.geocode_source,
            "address_issue": order.address_issue or None,
            "address_issue_detail": order.address_issue_detail,
        }

    def get_load(self, order) -> dict:
        return {"kg": order.load_kg, "m3": order.load_m3, "parcels": order.load_parcels}

    def get_proofs_required(self, order) -> list[str]:
        return required_proofs(order)

    def get_tracking_url(self, order) -> str:
        path = f"/t/{order.tracking_token}"
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class OrderEventSerializer(serializers.Serializer):
    kind = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    reason = serializers.CharField()
    lat = serializers.FloatField(allow_null=True)
    lng = serializers.FloatField(allow_null=True)
    details = serializers.JSONField()
