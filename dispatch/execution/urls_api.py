"""Route execution API (under /api/): the driver app's reads and actions."""

from django.urls import path

from dispatch.execution import api

urlpatterns = [
    path("driver/today", api.DriverTodayApi.as_view(), name="api-driver-today"),
    path("driver/actions", api.DriverActionsApi.as_view(), name="api-driver-actions"),
    path("driver/stops/<int:pk>/contact", api.DriverStopContactApi.as_view(), name="api-driver-stop-contact"),
    path("stops/<int:pk>/arrive", api.StopArriveApi.as_view(), name="api-stop-arrive"),
    path("stops/<int:pk>/complete", api.StopCompleteApi.as_view(), name="api-stop-complete"),
    path("stops/<int:pk>/fail", api.StopFailApi.as_view(), name="api-stop-fail"),
    path("stops/<int:pk>/skip", api.StopSkipApi.as_view(), name="api-stop-skip"),
]
