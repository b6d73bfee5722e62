from celery import shared_task

from tracking.services.monitoring import detect_silent_and_idle_drivers
from tracking.services.positions import position_history_purge


@shared_task
def position_history_purge_task() -> int:
    return position_history_purge()


@shared_task
def detect_silent_and_idle_drivers_task() -> int:
    return detect_silent_and_idle_drivers()
