from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"

    def ready(self):
        from common import events
        from tracking import handlers

        events.subscribe(events.ORDER_FAILED, handlers.on_order_failed)
        events.subscribe(events.FAILURE_POLICY_DECIDED, handlers.on_failure_policy_decided)
        events.subscribe(events.ORDER_CREATED, handlers.on_order_address, when=handlers.may_have_address_issue)
        events.subscribe(events.ORDER_UPDATED, handlers.on_order_address, when=handlers.may_have_address_issue)
        events.subscribe(events.PLAN_OPTIMIZED, handlers.on_plan_optimized)
        # A reaction that failed its last retry is an exception for ops, in the control tower's feed.
        events.on_delivery_failed(handlers.on_reaction_failed)
        # Live pages and the tower follow every status an order takes on the road (best effort:
        # a page that misses a push catches up on its next snapshot).
        for name in (
            events.ORDER_OUT_FOR_DELIVERY,
            events.ORDER_ARRIVED,
            events.ORDER_DELIVERED,
            events.ORDER_FAILED,
            events.ORDER_RESCHEDULED,
            events.ORDER_RETURNED,
            events.ORDER_CANCELLED,
        ):
            events.subscribe_after_commit(name, handlers.on_order_status_changed)
