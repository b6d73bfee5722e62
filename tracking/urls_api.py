from django.urls import path

from tracking import api

urlpatterns = [
    path("driver/positions", api.DriverPositionBatchApi.as_view(), name="api-driver-positions"),
]
