"""Delivery slots API: templates, availability for checkouts, holds, and an order created in a held slot.

Rescheduling an order is in `api_reschedule.py`.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.tenancy import OrganizationApi
from common import clock, horizon
from common.errors import FieldValidationError, UnprocessableError
from dispatch.models import WEEKDAYS, SlotHold, SlotTemplate
from dispatch.network.selectors import hub_by_code
from dispatch.slots.selectors import (
    MAX_RANGE_DAYS,
    slot_availability,
    slot_hold_list,
    slot_template_list,
)
from dispatch.slots.services import (
    slot_hold,
    slot_hold_confirm,
    slot_hold_release,
    slot_resolve,
    slot_template_save,
)
from orders.api import OrderCollectionApi, order_create_schema
from orders.geocoding import AddressQuery, geocode
from orders.selectors import order_list
from orders.serializers import HubCodeField, LoadSerializer, OrderCreateSerializer
from orders.services import order_create

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Replays the first response for 24 h when the same key is sent with the same body.",
)


class HubTimeField(serializers.DateTimeField):
    """A time in the hub's zone with its offset (what a checkout shows), e.g. 10:00+02:00."""

    def to_representation(self, value):
        return value.isoformat()


class SlotOfferSerializer(serializers.Serializer):
    template = serializers.IntegerField(source="template.pk")
    date = serializers.DateField()
    start = HubTimeField()
    end = HubTimeField()
    available = serializers.BooleanField()
    capacity = serializers.IntegerField()
    remaining = serializers.IntegerField()
    price = serializers.DecimalField(source="template.price", max_digits=8, decimal_places=2)
    cost_indication = serializers.SerializerMethodField()
    reason = serializers.CharField(allow_null=True)

    def get_cost_indication(self, offer) -> dict | None:
        if offer.insertion is None:
            return None
        return {"added_minutes": offer.insertion.added_minutes, "added_km": offer.insertion.added_km}


class AvailabilityOutputSerializer(serializers.Serializer):
    hub = serializers.CharField(source="hub.code")
    slots = SlotOfferSerializer(many=True)


class SlotApi(OrganizationApi):
    def hubs(self):
        return {"hubs": hub_by_code(organization=self.organization)}


# --- Templates -----------------------------------------------------------------------------------


class SlotTemplateSerializer(serializers.ModelSerializer):
    hub = HubCodeField()
    weekdays = serializers.ListField(child=serializers.ChoiceField(choices=WEEKDAYS), allow_empty=False, max_length=7)

    class Meta:
        model = SlotTemplate
        fields = [
            "id",
            "hub",
            "name",
            "weekdays",
            "start_time",
            "end_time",
            "cutoff_minutes",
            "cutoff_previous_day_at",
            "same_day_allowed",
            "active",
            "manual_cap",
            "price",
        ]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["hub"] = instance.hub.code
        return data


class SlotTemplateCollectionApi(SlotApi):
    serializer_class = SlotTemplateSerializer

    def organization_queryset(self):
        return slot_template_list(organization=self.organization)

    @extend_schema(tags=["slots"], operation_id="slot_templates_list", responses=SlotTemplateSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(SlotTemplateSerializer(page, many=True, context=self.hubs()).data)

    @extend_schema(
        tags=["slots"],
        operation_id="slot_templates_create",
        parameters=[IDEMPOTENCY_HEADER],
        responses={201: SlotTemplateSerializer},
    )
    def post(self, request):
        serializer = SlotTemplateSerializer(data=request.data, context=self.hubs())
        serializer.is_valid(raise_exception=True)
        template = slot_template_save(
            organization=self.organization, instance=SlotTemplate(), data=serializer.validated_data
        )
        return Response(SlotTemplateSerializer(template).data, status=status.HTTP_201_CREATED)


# --- Availability --------------------------------------------------------------------------------


class AvailabilityQuerySerializer(serializers.Serializer):
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, min_value=-180, max_value=180)
    address = serializers.CharField(required=False, max_length=500)
    postcode = serializers.CharField(required=False, max_length=20, default="")
    city = serializers.CharField(required=False, max_length=120, default="")
    country = serializers.CharField(required=False, max_length=2, default="")
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)
    kg = serializers.FloatField(min_value=0, max_value=100_000, default=0)
    m3 = serializers.FloatField(min_value=0, max_value=1_000, default=0)
    parcels = serializers.IntegerField(min_value=0, max_value=10_000, default=1)
    hub = HubCodeField(required=False)

    def validate(self, attrs):
        if ("lat" in attrs) != ("lng" in attrs):
            raise serializers.ValidationError({"lat": ["Send both lat and lng, or neither."]})
        if "lat" not in attrs and not attrs.get("address"):
            raise serializers.ValidationError({"lat": ["Send lat and lng, or an address."]})
        # Checked before any arithmetic: date_from=9999-12-31 plus six days overflowed (a 500).
        tz = attrs["hub"].tz if attrs.get("hub") else self.context.get("timezone")
        for name in ("date_from", "date_to"):
            if name in attrs and (problem := horizon.date_problem(attrs[name], tz=tz)):
                raise serializers.ValidationError({name: [problem]})
        date_from = attrs.get("date_from") or clock.now().astimezone(horizon.zone(tz)).date()
        date_to = attrs.get("date_to") or date_from + dt.timedelta(days=6)
        if date_to < date_from:
            raise serializers.ValidationError({"date_to": ["date_to must not be before date_from."]})
        if (date_to - date_from).days >= MAX_RANGE_DAYS:
            raise serializers.ValidationError({"date_to": [f"Ask for at most {MAX_RANGE_DAYS} days at a time."]})
        attrs["date_from"], attrs["date_to"] = date_from, date_to
        return attrs


def _point(data: dict) -> tuple[float, float]:
    if "lat" in data:
        return data["lat"], data["lng"]
    found = geocode(AddressQuery(data["address"], data["postcode"], data["city"], data["country"].upper()))
    if found is None or found.confidence < settings.GEOCODER_MIN_CONFIDENCE:
        raise UnprocessableError(
            "The address could not be located precisely enough; send lat and lng.", code="address_not_found"
        )
    return found.lat, found.lng


class SlotAvailabilityApi(SlotApi):
    pagination_class = None

    @extend_schema(
        tags=["slots"],
        operation_id="slots_availability",
        parameters=[AvailabilityQuerySerializer],
        responses={
            200: AvailabilityOutputSerializer,
            422: OpenApiResponse(description="address_outside_service_area: no hub serves the address"),
        },
        summary="Slots a checkout can book at an address (422 when outside every service area)",
    )
    def get(self, request):
        context = {**self.hubs(), "timezone": self.organization.timezone}
        query = AvailabilityQuerySerializer(data=request.query_params, context=context)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        lat, lng = _point(data)
        availability = slot_availability(
            organization=self.organization,
            lat=lat,
            lng=lng,
            date_from=data["date_from"],
            date_to=data["date_to"],
            load={"kg": data["kg"], "m3": data["m3"], "parcels": data["parcels"]},
            hub=data.get("hub"),
        )
        return Response(AvailabilityOutputSerializer(availability).data)


# --- Holds ---------------------------------------------------------------------------------------


class HoldOutputSerializer(serializers.ModelSerializer):
    hub = serializers.CharField(source="hub.code")
    start = serializers.SerializerMethodField()
    end = serializers.SerializerMethodField()
    load = serializers.SerializerMethodField()

    class Meta:
        model = SlotHold
        fields = [
            "id",
            "hub",
            "template",
            "date",
            "start",
            "end",
            "lat",
            "lng",
            "load",
            "status",
            "expires_at",
            "order",
            "created_at",
            "confirmed_at",
        ]

    def get_start(self, hold) -> str:
        return hold.start.astimezone(hold.hub.tz).isoformat()

    def get_end(self, hold) -> str:
        return hold.end.astimezone(hold.hub.tz).isoformat()

    def get_load(self, hold) -> dict:
        return {"kg": hold.load_kg, "m3": hold.load_m3, "parcels": hold.load_parcels}


class HoldInputSerializer(serializers.Serializer):
    hub = HubCodeField()
    date = serializers.DateField(required=False)
    template = serializers.IntegerField(required=False)
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lng = serializers.FloatField(min_value=-180, max_value=180)
    load = LoadSerializer(default=lambda: {"kg": 0, "m3": 0, "parcels": 1})

    def validate(self, attrs):
        if "template" in attrs:
            if "date" not in attrs:
                raise serializers.ValidationError({"date": ["Give the date of the slot."]})
            if problem := horizon.date_problem(attrs["date"], tz=attrs["hub"].tz):
                raise serializers.ValidationError({"date": [problem]})
        elif "start" not in attrs or "end" not in attrs:
            raise serializers.ValidationError({"template": ["Give a template and a date, or start and end."]})
        elif errors := horizon.window_problems(attrs["start"], attrs["end"]):
            raise serializers.ValidationError(errors)
        return attrs


class HoldApi(SlotApi):
    def organization_queryset(self):
        return slot_hold_list(organization=self.organization)

    def output(self, hold, status_code=status.HTTP_200_OK):
        return Response(HoldOutputSerializer(hold).data, status=status_code)


class SlotHoldCreateApi(HoldApi):
    @extend_schema(
        tags=["slots"],
        operation_id="slot_holds_create",
        request=HoldInputSerializer,
        responses={201: HoldOutputSerializer},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Hold a place in a slot until it expires (409 slot_full when taken)",
    )
    def post(self, request):
        serializer = HoldInputSerializer(data=request.data, context=self.hubs())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        hub = data["hub"]
        if "template" in data:
            template = slot_template_list(organization=self.organization, hub=hub).filter(pk=data["template"]).first()
            if template is None:
                raise UnprocessableError("Unknown slot template for this hub.", code="slot_not_found")
            day = data["date"]
        else:
            template, day = slot_resolve(hub=hub, start=data["start"], end=data["end"])
        hold = slot_hold(
            actor=self.actor, template=template, day=day, lat=data["lat"], lng=data["lng"], load=data["load"]
        )
        return self.output(hold, status.HTTP_201_CREATED)


class SlotHoldDetailApi(HoldApi):
    @extend_schema(tags=["slots"], operation_id="slot_holds_retrieve", responses=HoldOutputSerializer)
    def get(self, request, pk):
        return self.output(get_object_or_404(self.get_queryset(), pk=pk))


class ConfirmSerializer(serializers.Serializer):
    order_id = serializers.IntegerField()


class SlotHoldConfirmApi(HoldApi):
    @extend_schema(
        tags=["slots"],
        operation_id="slot_holds_confirm",
        request=ConfirmSerializer,
        responses=HoldOutputSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        summary="Attach an order to a held slot: sets its window (409 when expired)",
    )
    def post(self, request, pk):
        hold = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = ConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_list(organization=self.organization).filter(pk=serializer.validated_data["order_id"]).first()
        if order is None:
            raise serializers.ValidationError({"order_id": ["Unknown order."]})
        return self.output(slot_hold_confirm(actor=self.actor, hold=hold, order=order))


class SlotHoldReleaseApi(HoldApi):
    @extend_schema(tags=["slots"], operation_id="slot_holds_release", request=None, responses=HoldOutputSerializer)
    def post(self, request, pk):
        hold = get_object_or_404(self.get_queryset(), pk=pk)
        return self.output(slot_hold_release(actor=self.actor, hold=hold))


# --- Orders created in a held slot ---------------------------------------------------------------


# `/api/orders`: the orders' list and create, where a `slot_hold` in the body becomes the new
# order's window (hub and time windows may then be left out). An edge above orders composes both
# apps in one transaction: the order is created and its hold confirmed, or neither is kept.
class OrderInHeldSlotCollectionApi(OrderCollectionApi):
    @order_create_schema
    def post(self, request):
        hold = held_slot(self.organization, request.data)
        if hold is None:
            return super().post(request)
        serializer = OrderCreateSerializer(data=with_held_window(request.data, hold), context=self.serializer_context())
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            order = order_create(actor=self.actor, row=serializer.validated_data)
            # A checkout's held slot becomes the order's window, or neither is kept.
            slot_hold_confirm(actor=self.actor, hold=hold, order=order)
            order.refresh_from_db()
        return self.output(order, status.HTTP_201_CREATED)


def held_slot(organization, data):
    """The hold named by `slot_hold` in an order body, if any."""
    if not isinstance(data, dict) or data.get("slot_hold") in (None, ""):
        return None
    hold_id = data["slot_hold"]
    hold = slot_hold_list(organization=organization).filter(pk=hold_id).first() if str(hold_id).isdigit() else None
    if hold is None:
        raise FieldValidationError({"slot_hold": [f"Unknown slot hold '{hold_id}'."]})
    return hold


def with_held_window(data: dict, hold) -> dict:
    filled = dict(data)
    filled.setdefault("hub", hold.hub.code)
    filled.setdefault("time_windows", [{"start": hold.start.isoformat(), "end": hold.end.isoformat()}])
    return filled
