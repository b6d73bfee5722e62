from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        # Services enqueue the send task by name, which runs it (eagerly or on a worker) only if
        # it is registered in this process.
        import notifications.tasks  # noqa: F401
        from common import events
        from notifications import handlers

        # Customer messages follow the order's life; each subscriber only writes Message rows,
        # sent after the delivery commits (notifications/services/messages.py).
        # Confirmed as accepted: at creation (a batch at once), when an address flagged at intake
        # is fixed, and again for a new slot; planning says nothing.
        events.subscribe(events.ORDER_BATCH_CREATED, handlers.on_order_batch_created)
        events.subscribe(events.ORDER_VALIDATED, handlers.on_order_address_fixed, when=handlers.is_address_fixed)
        events.subscribe(events.ORDER_SLOT_BOOKED, handlers.on_order_slot_booked)
        events.subscribe(events.ORDER_DISPATCHED, handlers.on_order_dispatched)
        events.subscribe(events.ORDER_OUT_FOR_DELIVERY, handlers.on_order_out_for_delivery)
        events.subscribe(events.ORDER_DELIVERED, handlers.on_order_delivered)
        events.subscribe(events.ORDER_FAILED, handlers.on_order_failed)
        events.subscribe(events.ORDER_RESCHEDULED, handlers.on_order_rescheduled)
        events.subscribe(events.ORDER_CANCELLED, handlers.on_order_cancelled)
        # Tracking raises one late-risk exception per stop per slip: one "delayed" message each.
        events.subscribe(events.EXCEPTION_RAISED, handlers.on_late_risk, when=handlers.is_late_risk)

        # Merchant webhooks: one outbox subscriber per catalogue type; the tasks module registers
        # the send and sweep tasks named in the beat schedule.
        from notifications.webhooks import tasks  # noqa: F401
        from notifications.webhooks.subscribers import webhooks_subscribe

        webhooks_subscribe()
