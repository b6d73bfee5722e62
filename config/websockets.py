"""WebSocket URL patterns (named so because "routing" is the optimisation engine)."""

websocket_urlpatterns: list = []
