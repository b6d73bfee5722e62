from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"

    def ready(self):
        from common.events import subscribe
        from tracking import handlers

        subscribe("order_failed", handlers.on_order_failed)
        subscribe("order_created", handlers.on_order_address)
        subscribe("order_updated", handlers.on_order_address)
        subscribe("plan_optimized", handlers.on_plan_optimized)
        # Live pages and the tower follow every status an order takes on the road.
        for status in ("out_for_delivery", "arrived", "delivered", "failed", "rescheduled", "returned", "cancelled"):
            subscribe(f"order_{status}", handlers.on_order_status_changed)
