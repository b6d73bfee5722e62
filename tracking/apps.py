from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"

    def ready(self):
        from common.events import subscribe
        from tracking import monitoring

        subscribe("order_failed", monitoring.on_order_failed)
        subscribe("order_created", monitoring.on_order_address)
        subscribe("order_updated", monitoring.on_order_address)
        subscribe("plan_optimized", monitoring.on_plan_optimized)
