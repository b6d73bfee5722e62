"""Delivery slots API (under /api/): templates, availability, holds, rescheduling and next slots."""

from django.urls import path

from dispatch.slots import api, api_reschedule

urlpatterns = [
    path("slots/templates", api.SlotTemplateCollectionApi.as_view(), name="api-slot-templates"),
    path("slots/availability", api.SlotAvailabilityApi.as_view(), name="api-slot-availability"),
    path("slots/holds", api.SlotHoldCreateApi.as_view(), name="api-slot-holds"),
    path("slots/holds/<int:pk>", api.SlotHoldDetailApi.as_view(), name="api-slot-hold"),
    path("slots/holds/<int:pk>/confirm", api.SlotHoldConfirmApi.as_view(), name="api-slot-hold-confirm"),
    path("slots/holds/<int:pk>/release", api.SlotHoldReleaseApi.as_view(), name="api-slot-hold-release"),
    path("orders/<int:pk>/reschedule", api_reschedule.OrderRescheduleApi.as_view(), name="api-order-reschedule"),
    path("orders/<int:pk>/next-slots", api_reschedule.OrderNextSlotsApi.as_view(), name="api-order-next-slots"),
]
