from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "dispatch"
    verbose_name = "Dispatch: network and fleet"

    def ready(self):
        from functools import partial

        # Services enqueue their tasks by name (`signature(NAME)`), which only runs a task eagerly or
        # on a worker if it is registered there. Celery's autodiscovery looks for `dispatch.tasks`
        # only, so the sub-packages' tasks register here, in every process.
        import dispatch.optimize.tasks  # noqa: F401
        import dispatch.planning.tasks  # noqa: F401
        import dispatch.slots.tasks  # noqa: F401
        from common.events import ORDER_CANCELLED, ORDER_CREATED, STOP_FAILED, STOP_SKIPPED, subscribe
        from dispatch.execution.policy import on_stop_closed
        from dispatch.planning.services.live import (
            STOP_STATUS_FOR_ORDER,
            is_urgent,
            on_order_cancelled,
            on_order_created,
            on_order_progress,
        )

        # Live plans react to orders: urgent ones are inserted, cancelled ones leave their route.
        subscribe(ORDER_CREATED, on_order_created, when=is_urgent)
        subscribe(ORDER_CANCELLED, on_order_cancelled)
        # Stops follow the driver's progress, so live re-optimization keeps served stops fixed.
        for event in STOP_STATUS_FOR_ORDER:
            subscribe(event, partial(on_order_progress, event=event))
        # A failed or skipped stop: the organisation's failed-delivery policy decides what comes next.
        subscribe(STOP_FAILED, on_stop_closed)
        subscribe(STOP_SKIPPED, on_stop_closed)
