"""Rescheduling API: move an order to another slot, and the next slots it could move to.

`/api/orders/{id}/reschedule` and `/api/orders/{id}/next-slots` act on orders but decide by
slots (capacity, cut-offs, a route that still fits), so they live with the slots.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from common.errors import UnprocessableError
from dispatch.slots.api import IDEMPOTENCY_HEADER, AvailabilityOutputSerializer, SlotApi
from dispatch.slots.selectors import MAX_RANGE_DAYS, order_next_slots, slot_hold_list
from dispatch.slots.services import order_reschedule
from orders.selectors import order_list
from orders.serializers import OrderOutputSerializer, TimeWindowSerializer


class RescheduleSerializer(serializers.Serializer):
    hold = serializers.IntegerField(required=False)
    slot = TimeWindowSerializer(required=False)

    def validate(self, attrs):
        if ("hold" in attrs) == ("slot" in attrs):
            raise serializers.ValidationError({"slot": ["Give a slot {start, end} or a hold id, not both."]})
        return attrs


class OrderSlotApi(SlotApi):
    def organization_queryset(self):
        return order_list(organization=self.organization)


class OrderRescheduleApi(OrderSlotApi):
    @extend_schema(
        tags=["slots"],
        operation_id="orders_reschedule",
        request=RescheduleSerializer,
        responses=OrderOutputSerializer,
        parameters=[IDEMPOTENCY_HEADER],
        summary="Move an order to another slot (a failed order becomes rescheduled)",
    )
    def post(self, request, pk):
        order = get_object_or_404(self.get_queryset(), pk=pk)
        serializer = RescheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "hold" in data:
            hold = slot_hold_list(organization=self.organization).filter(pk=data["hold"]).first()
            if hold is None:
                raise serializers.ValidationError({"hold": ["Unknown hold."]})
            order = order_reschedule(actor=self.actor, order=order, hold=hold)
        else:
            order = order_reschedule(
                actor=self.actor, order=order, start=data["slot"]["start"], end=data["slot"]["end"]
            )
        return Response(OrderOutputSerializer(order, context={"request": request}).data)


class NextSlotsQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(min_value=1, max_value=MAX_RANGE_DAYS, default=7)
    limit = serializers.IntegerField(min_value=1, max_value=50, default=5)


class OrderNextSlotsApi(OrderSlotApi):
    pagination_class = None

    @extend_schema(
        tags=["slots"],
        operation_id="orders_next_slots",
        parameters=[NextSlotsQuerySerializer],
        responses=AvailabilityOutputSerializer,
        summary="The next bookable slots for an order",
    )
    def get(self, request, pk):
        order = get_object_or_404(self.get_queryset(), pk=pk)
        query = NextSlotsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        if order.hub is None or order.lat is None:
            raise UnprocessableError(
                "This order has no hub or no coordinates; fix its address first.", code="order_not_routable"
            )
        availability = order_next_slots(organization=self.organization, order=order, **query.validated_data)
        return Response(AvailabilityOutputSerializer(availability).data)
