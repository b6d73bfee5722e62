from celery import shared_task

from tracking.positions import position_history_purge


@shared_task
def position_history_purge_task() -> int:
    return position_history_purge()


@shared_task
def detect_silent_and_idle_drivers_task() -> int:
    from tracking.monitoring import detect_silent_and_idle_drivers

    return detect_silent_and_idle_drivers()
