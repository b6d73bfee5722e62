"""WebSocket URL patterns (named so because "routing" is the optimisation engine)."""

from django.urls import path

from dispatch.planning.consumers import DispatchBoardConsumer
from tracking.consumers import ControlTowerConsumer, DriverConsumer, TrackingPageConsumer

websocket_urlpatterns: list = [
    path("ws/hubs/<int:hub_id>/board/", DispatchBoardConsumer.as_asgi()),
    # Live tracking: the control tower, drivers' phones, customers' pages.
    path("ws/tower/", ControlTowerConsumer.as_asgi()),
    path("ws/driver/", DriverConsumer.as_asgi()),
    path("ws/track/<str:token>/", TrackingPageConsumer.as_asgi()),
]
