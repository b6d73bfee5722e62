"""Webhooks API: admins manage endpoints (a read-write API key may too), dispatchers read them.

The secret appears in two answers only: creating an endpoint and rotating its secret.
"""

import datetime as dt

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.models import Role
from accounts.tenancy import OrganizationApi
from notifications.models.webhooks import DeliveryStatus
from notifications.webhooks import selectors, services
from notifications.webhooks.catalogue import EVENT_TYPES, TEST_EVENT, TYPE_NAMES


def event_types_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=TYPE_NAMES), max_length=len(TYPE_NAMES), **kwargs
    )


class EndpointOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.URLField()
    event_types = serializers.ListField(child=serializers.CharField(), help_text="Empty: every event type.")
    description = serializers.CharField()
    active = serializers.BooleanField()
    disabled_reason = serializers.CharField(help_text="Why Waypoint disabled it; blank otherwise.")
    disabled_at = serializers.DateTimeField(allow_null=True)
    consecutive_failures = serializers.IntegerField()
    last_success_at = serializers.DateTimeField(allow_null=True)
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Until then the previous secret signs beside the current one."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class EndpointWithSecretSerializer(EndpointOutputSerializer):
    secret = serializers.CharField(help_text="The signing secret (whsec_...). Shown only in this answer.")


class EndpointInputSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    event_types = event_types_field(required=False, default=list, help_text="Empty or absent: every event type.")
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    active = serializers.BooleanField(required=False, default=True)


class EndpointUpdateSerializer(EndpointInputSerializer):
    url = serializers.URLField(max_length=500, required=False)
    event_types = event_types_field(required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)


class RotateInputSerializer(serializers.Serializer):
    overlap_hours = serializers.IntegerField(
        min_value=0, max_value=168, required=False, default=24, help_text="How long the old secret keeps signing."
    )


class AttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    request_headers = serializers.DictField(child=serializers.CharField())
    response_status = serializers.IntegerField(allow_null=True)
    response_body = serializers.CharField(help_text="The first KiB of the answer.")
    error = serializers.CharField()
    succeeded = serializers.BooleanField()


class DeliveryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.CharField(source="event.event_id")
    event_type = serializers.CharField(source="event.type")
    event_timestamp = serializers.DateTimeField(source="event.timestamp")
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempts = serializers.IntegerField(help_text="Attempts in the current round (a replay starts a new one).")
    next_attempt_at = serializers.DateTimeField()
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    last_response_status = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    attempt_log = AttemptSerializer(many=True)


class DeliveryFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, required=False)
    event_type = serializers.ChoiceField(choices=[*TYPE_NAMES, TEST_EVENT], required=False)


class ReplayInputSerializer(serializers.Serializer):
    event_id = serializers.CharField(max_length=40, required=False, help_text="Replay this one event...")
    since = serializers.DateTimeField(required=False, help_text="...or every event of the endpoint's types since then.")

    def validate(self, attrs):
        if ("event_id" in attrs) == ("since" in attrs):
            raise serializers.ValidationError({"event_id": ["Give either event_id or since, not both."]})
        return attrs


class ReplayOutputSerializer(serializers.Serializer):
    replayed = serializers.IntegerField()
    deliveries = DeliveryOutputSerializer(many=True)


class EventTypeSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()


class WebhookApi(OrganizationApi):
    allowed_roles = frozenset({Role.ADMIN, Role.DISPATCHER})
    write_roles = frozenset({Role.ADMIN})

    def organization_queryset(self):
        return selectors.webhook_endpoint_list(organization=self.organization)

    def endpoint(self, pk):
        return get_object_or_404(self.get_queryset(), pk=pk)


def _with_secret(endpoint, status_code=status.HTTP_200_OK):
    return Response(EndpointWithSecretSerializer(endpoint).data, status=status_code)


class WebhookEventTypesApi(WebhookApi):
    pagination_class = None

    @extend_schema(operation_id="webhook_event_types", responses=EventTypeSerializer(many=True))
    def get(self, request):
        return Response(EventTypeSerializer(EVENT_TYPES, many=True).data)


class WebhookEndpointCollectionApi(WebhookApi):
    serializer_class = EndpointOutputSerializer

    @extend_schema(operation_id="webhook_endpoints_list", responses=EndpointOutputSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(EndpointOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="webhook_endpoints_create",
        request=EndpointInputSerializer,
        responses={201: EndpointWithSecretSerializer},
    )
    def post(self, request):
        serializer = EndpointInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_create(organization=self.organization, **serializer.validated_data)
        return _with_secret(endpoint, status.HTTP_201_CREATED)


class WebhookEndpointDetailApi(WebhookApi):
    @extend_schema(operation_id="webhook_endpoints_retrieve", responses=EndpointOutputSerializer)
    def get(self, request, pk):
        return Response(EndpointOutputSerializer(self.endpoint(pk)).data)

    @extend_schema(
        operation_id="webhook_endpoints_update", request=EndpointUpdateSerializer, responses=EndpointOutputSerializer
    )
    def patch(self, request, pk):
        endpoint = self.endpoint(pk)
        serializer = EndpointUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.webhook_endpoint_update(endpoint=endpoint, changes=serializer.validated_data)
        return Response(EndpointOutputSerializer(endpoint).data)

    @extend_schema(operation_id="webhook_endpoints_delete", request=None, responses={204: None})
    def delete(self, request, pk):
        services.webhook_endpoint_delete(endpoint=self.endpoint(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookSecretRotateApi(WebhookApi):
    @extend_schema(
        operation_id="webhook_endpoints_rotate_secret",
        summary="Rotate the signing secret",
        description="The new secret signs at once; the previous one keeps signing beside it (a second "
        "`v1,` signature) for `overlap_hours`.",
        request=RotateInputSerializer,
        responses=EndpointWithSecretSerializer,
    )
    def post(self, request, pk):
        endpoint = self.endpoint(pk)
        serializer = RotateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        overlap = dt.timedelta(hours=serializer.validated_data["overlap_hours"])
        return _with_secret(services.webhook_secret_rotate(endpoint=endpoint, overlap=overlap))


class WebhookTestApi(WebhookApi):
    @extend_schema(
        operation_id="webhook_endpoints_test",
        summary="Send a webhook.test event to this endpoint",
        request=None,
        responses={202: DeliveryOutputSerializer},
    )
    def post(self, request, pk):
        delivery = services.webhook_test_send(endpoint=self.endpoint(pk))
        delivery.refresh_from_db()
        return Response(DeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class WebhookDeliveryListApi(WebhookApi):
    serializer_class = DeliveryOutputSerializer

    @extend_schema(
        operation_id="webhook_deliveries_list",
        summary="The endpoint's delivery log, newest first, with each attempt",
        parameters=[
            OpenApiParameter("status", str, enum=DeliveryStatus.values),
            OpenApiParameter("event_type", str, enum=[*TYPE_NAMES, TEST_EVENT]),
        ],
        responses=DeliveryOutputSerializer(many=True),
    )
    def get(self, request, pk):
        endpoint = self.endpoint(pk)
        filters = DeliveryFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        deliveries = selectors.webhook_delivery_list(
            organization=self.organization, endpoint=endpoint, **filters.validated_data
        ).prefetch_related("attempt_log")
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(DeliveryOutputSerializer(page, many=True).data)


class WebhookReplayApi(WebhookApi):
    @extend_schema(
        operation_id="webhook_endpoints_replay",
        summary="Send one event, or every event since a time, to this endpoint again",
        description="Each replayed event keeps its id (`webhook-id`), so a receiver that has it already "
        "can drop it. A disabled endpoint answers 409 `webhook_endpoint_disabled`.",
        request=ReplayInputSerializer,
        responses={202: ReplayOutputSerializer},
    )
    def post(self, request, pk):
        endpoint = self.endpoint(pk)
        serializer = ReplayInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "event_id" in data:
            deliveries = [services.webhook_replay_event(endpoint=endpoint, event_id=data["event_id"])]
        else:
            deliveries = services.webhook_replay_since(endpoint=endpoint, since=data["since"])
        shown = selectors.webhook_delivery_list(organization=self.organization, endpoint=endpoint).filter(
            pk__in=[d.pk for d in deliveries[:100]]
        )
        body = {"replayed": len(deliveries), "deliveries": shown.prefetch_related("attempt_log")}
        return Response(ReplayOutputSerializer(body).data, status=status.HTTP_202_ACCEPTED)
