"""WebSocket URL patterns (named so because "routing" is the optimisation engine)."""

from django.urls import path

from tracking.consumers import DispatchBoardConsumer

websocket_urlpatterns: list = [
    path("ws/hubs/<int:hub_id>/board/", DispatchBoardConsumer.as_asgi()),
]
