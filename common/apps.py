import datetime as dt
import os

from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        from common import checks, clock, events, strict_text, tasks

        checks.secret_key_warn_at_startup()
        strict_text.refuse_non_text()

        # An ISO 8601 instant with its offset: the moment this process's clock starts from.
        if start := os.environ.get("WAYPOINT_CLOCK_START"):
            clock.start_at(dt.datetime.fromisoformat(start))
        # Set here rather than imported by common.events: the task module imports the outbox,
        # which reads the subscribers from common.events.
        events.deliver_with(tasks.events_deliver_later)
