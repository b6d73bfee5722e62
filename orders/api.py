"""Orders API: thin views that validate, load within the organization, call one service."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from accounts.models import WRITE_ROLES
from accounts.tenancy import OrganizationApi
from common.errors import FieldValidationError
from dispatch.network.selectors import hub_by_code
from orders import selectors, services
from orders.csv_import import CsvFileError, parse_orders_csv
from orders.filters import OrderFilter
from orders.intake import intake_csv, intake_rows
from orders.serializers import (
    BulkOrderSerializer,
    CancelSerializer,
    OrderCreateSerializer,
    OrderEventSerializer,
    OrderOutputSerializer,
    OrderUpdateSerializer,
    TransitionSerializer,
)

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Replays the first response for 24 h when the same key is sent with the same body; "
    "the same key with another body answers 422.",
)
ORDER_EXAMPLE = OpenApiExample(
    "A delivery in Helsinki",
    request_only=True,
    value={
        "merchant_reference": "SO-10001",
        "hub": "hel-central",
        "customer": {"name": "Aino Virtanen", "phone": "+358401234567", "email": "aino@example.fi"},
        "address": {
            "text": "Mannerheimintie 5",
            "postcode": "00100",
            "city": "Helsinki",
            "country": "FI",
            "lat": 60.1686,
            "lng": 24.9413,
        },
        "time_windows": [{"start": "2026-11-25T10:00:00+02:00", "end": "2026-11-25T12:00:00+02:00"}],
        "service_minutes": 4,
        "load": {"kg": 2.5, "m3": 0.01, "parcels": 1},
        "priority": 0,
        "proof_of_delivery": ["signature"],
    },
)

order_create_schema = extend_schema(
    operation_id="orders_create",
    summary="Create an order",
    request=OrderCreateSerializer,
    responses={201: OrderOutputSerializer},
    parameters=[IDEMPOTENCY_HEADER],
    examples=[ORDER_EXAMPLE],
)


class OrderApi(OrganizationApi):
    def organization_queryset(self):
        return selectors.order_list(organization=self.organization)

    def serializer_context(self):
        return {"request": self.request, "hubs": hub_by_code(organization=self.organization)}

    def output(self, order, status_code=status.HTTP_200_OK):
        return Response(OrderOutputSerializer(order, context={"request": self.request}).data, status=status_code)


# List and create orders. `/api/orders` itself is served by a subclass in the slots
# (`dispatch/slots/api.py`) that also creates an order in a held slot (`slot_hold`).
# (Comments, not docstrings: drf-spectacular would publish a view's docstring in the schema.)
class OrderCollectionApi(OrderApi):
    serializer_class = OrderOutputSerializer
    filterset_class = OrderFilter

    @extend_schema(
        operation_id="orders_list",
        summary="List orders (filters, cursor pagination)",
        responses=OrderOutputSerializer(many=True),
    )
    def get(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(OrderOutputSerializer(page, many=True, context={"request": request}).data)

    @order_create_schema
    def post(self, request):
        serializer = OrderCreateSerializer(data=request.data, context=self.serializer_context())
        serializer.is_valid(raise_exception=True)
        order = services.order_create(actor=self.actor, row=serializer.validated_data)
        return self.output(order, status.HTTP_201_CREATED)


class BulkResultSerializer(serializers.Serializer):
    summary = serializers.DictField()
    results = serializers.ListField(child=serializers.DictField())


class OrderBulkCreateApi(OrderApi):
    @extend_schema(
        operation_id="orders_bulk_create",
        summary="Create many orders; each row succeeds or fails on its own",
        description="201 when every row was created, 207 when some failed, 400 when none was. "
        "`results[i]` answers `orders[i]`: `created` with the order, or `error` with field messages.",
        request=BulkOrderSerializer,
        responses={
            201: BulkResultSerializer,
            207: BulkResultSerializer,
            400: OpenApiResponse(BulkResultSerializer, description="No row was created (or the body is invalid)"),
        },
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request):
        serializer = BulkOrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        outcome = intake_rows(actor=self.actor, rows=serializer.validated_data["orders"], request=request)
        return Response(outcome, status=_bulk_status(outcome["summary"]))


def _bulk_status(summary: dict) -> int:
    if summary["failed"] == 0:
        return status.HTTP_201_CREATED
    return status.HTTP_207_MULTI_STATUS if summary["created"] else status.HTTP_400_BAD_REQUEST


class CsvUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class OrderImportApi(OrderApi):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="orders_import_csv",
        summary="Import orders from a CSV file",
        description="Same per-row rule as bulk create. The response links a CSV error report.",
        request={"multipart/form-data": CsvUploadSerializer},
        responses={201: BulkResultSerializer},
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request):
        serializer = CsvUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        try:
            rows = parse_orders_csv(upload.read())
        except CsvFileError as error:
            raise FieldValidationError({"file": [str(error)]}) from error
        record, outcome = intake_csv(actor=self.actor, rows=rows, filename=upload.name, request=request)
        outcome["import_id"] = record.pk
        outcome["error_report_url"] = request.build_absolute_uri(f"/api/orders/imports/{record.pk}/errors.csv")
        return Response(outcome, status=_bulk_status(outcome["summary"]))


class OrderImportErrorsApi(OrganizationApi):
    def organization_queryset(self):
        return selectors.order_import_list(organization=self.organization)

    @extend_schema(
        operation_id="orders_import_errors",
        summary="Download an import's error report (CSV)",
        responses={(200, "text/csv"): str},
    )
    def get(self, request, pk):
        record = get_object_or_404(self.get_queryset(), pk=pk)
        response = HttpResponse(record.error_report_csv, content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="import-{record.pk}-errors.csv"'
        return response


class OrderDetailApi(OrderApi):
    @extend_schema(operation_id="orders_retrieve", responses=OrderOutputSerializer)
    def get(self, request, pk):
        return self.output(get_object_or_404(self.get_queryset(), pk=pk))

    @extend_schema(
        operation_id="orders_update",
        summary="Change an order that is not dispatched yet",
        request=OrderUpdateSerializer,
        responses=OrderOutputSerializer,
    )
    def patch(self, request, pk):
        order = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = OrderUpdateSerializer(data=request.data, context=self.serializer_context())
        serializer.is_valid(raise_exception=True)
        order = services.order_update(actor=self.actor, order=order, changes=serializer.validated_data)
        return self.output(order)


class OrderCancelApi(OrderApi):
    @extend_schema(
        operation_id="orders_cancel",
        request=CancelSerializer,
        responses=OrderOutputSerializer,
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request, pk):
        order = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.output(services.order_cancel(actor=self.actor, order=order, **serializer.validated_data))


class OrderTransitionApi(OrderApi):
    @extend_schema(
        operation_id="orders_transition",
        summary="Move an order to another status",
        description="Illegal moves answer 409 naming the allowed next statuses. An API key cannot move an order "
        "to `delivered` or `failed` (403 `transition_not_permitted`): drivers and dispatchers record those.",
        request=TransitionSerializer,
        responses=OrderOutputSerializer,
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request, pk):
        order = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        order = services.order_transition(
            actor=self.actor,
            order=order,
            to_status=data["status"],
            reason=data["reason"],
            lat=data["lat"],
            lng=data["lng"],
        )
        return self.output(order)


class OrderEventsApi(OrderApi):
    pagination_class = None

    @extend_schema(
        operation_id="orders_events",
        summary="The order's append-only history",
        responses=OrderEventSerializer(many=True),
    )
    def get(self, request, pk):
        order = get_object_or_404(self.get_queryset(), pk=pk)
        return Response(OrderEventSerializer(selectors.order_events(order=order), many=True).data)


class DeliveryCodeResetOutputSerializer(serializers.Serializer):
    order_id = serializers.IntegerField()
    attempts_left = serializers.IntegerField()


class OrderDeliveryCodeResetApi(OrderApi):
    # Ops on the phone with the customer unlock the code; a merchant's key was not at the door.
    allowed_roles = write_roles = WRITE_ROLES
    api_keys_allowed = False
    api_key_refusal = "API keys cannot reset a one-time code; a dispatcher or an admin does."

    @extend_schema(
        operation_id="orders_delivery_code_reset",
        summary="Give the customer a new one-time code",
        description="For an order that asks for `one_time_code` and is `out_for_delivery` or `arrived`: a new "
        "6-digit code with a fresh count of tries (it unlocks a code locked after 5 wrong ones). The customer's "
        "tracking page shows the new code; this answer does not carry it. Other orders answer 409 "
        "`delivery_code_not_resettable`. Admins and dispatchers only; API keys 403.",
        request=None,
        responses=DeliveryCodeResetOutputSerializer,
        parameters=[IDEMPOTENCY_HEADER],
    )
    def post(self, request, pk):
        order = get_object_or_404(self.get_queryset(), pk=pk)
        order = services.order_delivery_code_reset(actor=self.actor, order=order)
        body = {"order_id": order.pk, "attempts_left": services.order_delivery_code_attempts_left(order)}
        return Response(DeliveryCodeResetOutputSerializer(body).data)
