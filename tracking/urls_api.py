"""Tracking's API (under /api/): drivers' position batches and the tower's exception actions."""

from django.urls import path

from tracking.api import exceptions, positions

urlpatterns = [
    path("driver/positions", positions.DriverPositionBatchApi.as_view(), name="api-driver-positions"),
    path(
        "exceptions/<int:pk>/acknowledge",
        exceptions.ExceptionAcknowledgeApi.as_view(),
        name="api-exception-acknowledge",
    ),
    path("exceptions/<int:pk>/assign", exceptions.ExceptionAssignApi.as_view(), name="api-exception-assign"),
    path("exceptions/<int:pk>/resolve", exceptions.ExceptionResolveApi.as_view(), name="api-exception-resolve"),
]
