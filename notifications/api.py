"""The customer-message log through the API: what the tower's and the Messages pages show, for a
merchant's systems and for ops tooling. Read-only; messages are made by the rules, never by hand."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from accounts.tenancy import OrganizationApi
from notifications.models import Channel, MessageKind, MessageStatus
from notifications.selectors import message_list


class MessageOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order_id = serializers.IntegerField()
    merchant_reference = serializers.CharField(source="order.merchant_reference")
    kind = serializers.ChoiceField(choices=MessageKind.choices)
    channel = serializers.ChoiceField(choices=Channel.choices)
    recipient = serializers.CharField()
    language = serializers.CharField()
    subject = serializers.CharField(help_text="Email only; blank for SMS.")
    body = serializers.CharField(help_text="The plain text sent (the email's text part, or the SMS).")
    status = serializers.ChoiceField(choices=MessageStatus.choices)
    reason = serializers.CharField(help_text="Why a message was suppressed or failed for good (opt_out...).")
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField()
    provider_id = serializers.CharField()
    cost = serializers.DecimalField(max_digits=10, decimal_places=5, allow_null=True)
    error = serializers.CharField(help_text="The last provider error, if any.")
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True)


class MessageFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=MessageStatus.choices, required=False)
    kind = serializers.ChoiceField(choices=MessageKind.choices, required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    order = serializers.CharField(max_length=100, required=False, help_text="The order's merchant reference.")


class MessageApi(OrganizationApi):
    serializer_class = MessageOutputSerializer

    def organization_queryset(self):
        return message_list(organization=self.organization)


class MessageListApi(MessageApi):
    @extend_schema(
        operation_id="notification_messages_list",
        summary="Customer messages, newest first",
        parameters=[
            OpenApiParameter("status", str, enum=MessageStatus.values),
            OpenApiParameter("kind", str, enum=MessageKind.values),
            OpenApiParameter("channel", str, enum=Channel.values),
            OpenApiParameter("order", str, description="An order's merchant reference"),
        ],
        responses=MessageOutputSerializer(many=True),
    )
    def get(self, request):
        filters = MessageFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        messages = message_list(organization=self.organization, filters=filters.validated_data)
        page = self.paginate_queryset(messages)
        return self.get_paginated_response(MessageOutputSerializer(page, many=True).data)


class MessageDetailApi(MessageApi):
    pagination_class = None

    @extend_schema(operation_id="notification_messages_get", responses=MessageOutputSerializer)
    def get(self, request, pk):
        return Response(MessageOutputSerializer(get_object_or_404(self.get_queryset(), pk=pk)).data)
