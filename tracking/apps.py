from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"

    def ready(self):
        from common.events import subscribe
        from tracking import live, monitoring

        subscribe("order_failed", monitoring.on_order_failed)
        subscribe("order_created", monitoring.on_order_address)
        subscribe("order_updated", monitoring.on_order_address)
        subscribe("plan_optimized", monitoring.on_plan_optimized)
        # Live pages and the tower follow every status an order takes on the road.
        for status in ("out_for_delivery", "arrived", "delivered", "failed", "rescheduled", "returned", "cancelled"):
            subscribe(f"order_{status}", live.on_order_status_changed)
