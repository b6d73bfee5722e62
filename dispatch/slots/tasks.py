"""Celery entry points of the slots: take ids, call one service, decide retry."""

from celery import shared_task

from dispatch.slots.services import slot_holds_expire


@shared_task
def slot_holds_expire_task() -> int:
    """Mark holds past their expiry; idempotent, so a redelivered run does nothing more."""
    return slot_holds_expire()
