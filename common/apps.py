import datetime as dt
import os

from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        from common import clock

        # An ISO 8601 instant with its offset: the moment this process's clock starts from.
        if start := os.environ.get("WAYPOINT_CLOCK_START"):
            clock.start_at(dt.datetime.fromisoformat(start))
