"""Delivery slots API (under /api/): templates, availability, holds, orders in a held slot, rescheduling."""

from django.urls import path

from dispatch.slots import api, api_reschedule

urlpatterns = [
    # Orders' own collection, extended with orders created in a held slot (see the view).
    path("orders", api.OrderInHeldSlotCollectionApi.as_view(), name="api-orders"),
    path("slots/templates", api.SlotTemplateCollectionApi.as_view(), name="api-slot-templates"),
    path("slots/availability", api.SlotAvailabilityApi.as_view(), name="api-slot-availability"),
    path("slots/holds", api.SlotHoldCreateApi.as_view(), name="api-slot-holds"),
    path("slots/holds/<int:pk>", api.SlotHoldDetailApi.as_view(), name="api-slot-hold"),
    path("slots/holds/<int:pk>/confirm", api.SlotHoldConfirmApi.as_view(), name="api-slot-hold-confirm"),
    path("slots/holds/<int:pk>/release", api.SlotHoldReleaseApi.as_view(), name="api-slot-hold-release"),
    path("orders/<int:pk>/reschedule", api_reschedule.OrderRescheduleApi.as_view(), name="api-order-reschedule"),
    path("orders/<int:pk>/next-slots", api_reschedule.OrderNextSlotsApi.as_view(), name="api-order-next-slots"),
]
