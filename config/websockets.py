"""WebSocket URL patterns (named so because "routing" is the optimisation engine)."""

from django.urls import path

from dispatch.planning.consumers import DispatchBoardConsumer

websocket_urlpatterns: list = [
    path("ws/hubs/<int:hub_id>/board/", DispatchBoardConsumer.as_asgi()),
]

# Live tracking (tracking/consumers_live.py): the control tower, drivers' phones, customers' pages.
from tracking.consumers_live import ControlTowerConsumer, DriverConsumer, TrackingPageConsumer  # noqa: E402

websocket_urlpatterns += [
    path("ws/tower/", ControlTowerConsumer.as_asgi()),
    path("ws/driver/", DriverConsumer.as_asgi()),
    path("ws/track/<str:token>/", TrackingPageConsumer.as_asgi()),
]
