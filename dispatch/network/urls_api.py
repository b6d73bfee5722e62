from django.urls import path

from dispatch.network import api

urlpatterns = [
    path("hubs", api.HubCollectionApi.as_view(), name="api-hubs"),
    path("hubs/<int:pk>", api.HubDetailApi.as_view(), name="api-hub"),
    path("vehicles", api.VehicleCollectionApi.as_view(), name="api-vehicles"),
    path("vehicles/<int:pk>", api.VehicleDetailApi.as_view(), name="api-vehicle"),
    path("drivers", api.DriverCollectionApi.as_view(), name="api-drivers"),
    path("drivers/<int:pk>", api.DriverDetailApi.as_view(), name="api-driver"),
    path("drivers/<int:pk>/shift-overrides", api.DriverShiftOverrideApi.as_view(), name="api-driver-overrides"),
    path(
        "drivers/<int:pk>/shift-overrides/<date>",
        api.DriverShiftOverrideDeleteApi.as_view(),
        name="api-driver-override",
    ),
]
