from celery import shared_task

from tracking.positions import position_history_purge


@shared_task
def position_history_purge_task() -> int:
    return position_history_purge()
