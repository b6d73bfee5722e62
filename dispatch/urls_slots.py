"""Delivery slots (API) and the forecast page; included from config/urls.py at the root."""

from django.urls import path

from dispatch import api_slots, views_forecast

urlpatterns = [
    path("api/slots/templates", api_slots.SlotTemplateCollectionApi.as_view(), name="api-slot-templates"),
    path("api/slots/availability", api_slots.SlotAvailabilityApi.as_view(), name="api-slot-availability"),
    path("api/slots/holds", api_slots.SlotHoldCreateApi.as_view(), name="api-slot-holds"),
    path("api/slots/holds/<int:pk>", api_slots.SlotHoldDetailApi.as_view(), name="api-slot-hold"),
    path("api/slots/holds/<int:pk>/confirm", api_slots.SlotHoldConfirmApi.as_view(), name="api-slot-hold-confirm"),
    path("api/slots/holds/<int:pk>/release", api_slots.SlotHoldReleaseApi.as_view(), name="api-slot-hold-release"),
    path("api/orders/<int:pk>/reschedule", api_slots.OrderRescheduleApi.as_view(), name="api-order-reschedule"),
    path("api/orders/<int:pk>/next-slots", api_slots.OrderNextSlotsApi.as_view(), name="api-order-next-slots"),
    path("dispatch/forecast/", views_forecast.forecast_page, name="dispatch-forecast"),
]
