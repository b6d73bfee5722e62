"""Embedded mode has no Celery beat: a timer thread of the in-process worker sends the beat
schedule's entries instead (config/celery.py), so the background checks run in the demo too."""

import pytest

from config import celery as celery_config
from config.celery import EMBEDDED_EXCLUDED, EmbeddedTimer, app, embedded_schedule, interval_s

# The checks the demo cannot do without (issue 15): named so that renaming one in the beat
# schedule is noticed here, not by a demo whose silent drivers raise nothing.
BACKGROUND_CHECKS = {
    "silent-and-idle-drivers": "tracking.tasks.detect_silent_and_idle_drivers_task",
    "slot-holds-expire": "dispatch.slots.tasks.slot_holds_expire_task",
    "plans-sweep-stale": "dispatch.planning.tasks.plan_sweep_stale_task",
    "optimization-jobs-sweep-stale": "dispatch.optimize.tasks.optimization_jobs_sweep_stale_task",
    "events-sweep": "common.tasks.events_sweep_task",
}


def test_every_beat_entry_runs_embedded_or_is_excluded_with_a_reason():
    app.loader.import_default_modules()  # autodiscovery is lazy: every app's tasks module, as a worker loads them
    beat = app.conf.beat_schedule
    embedded = embedded_schedule()

    assert set(embedded) | set(EMBEDDED_EXCLUDED) == set(beat)
    assert not set(embedded) & set(EMBEDDED_EXCLUDED)
    assert all(reason.strip() for reason in EMBEDDED_EXCLUDED.values())
    assert {name: embedded[name]["task"] for name in BACKGROUND_CHECKS} == BACKGROUND_CHECKS
    assert all(entry["task"] in app.tasks for entry in embedded.values())
    assert all(interval_s(entry["schedule"]) > 0 for entry in embedded.values())


def test_each_entry_runs_at_start_up_then_at_its_own_interval():
    timer = EmbeddedTimer({"often": {"schedule": 30.0}, "minute": {"schedule": 60.0}, "hourly": {"schedule": 3600.0}})

    assert timer.due(0.0) == ["often", "minute", "hourly"]
    assert timer.due(29.0) == []
    assert timer.wait_s(29.0) == 1.0
    assert timer.due(30.0) == ["often"]
    assert timer.due(61.0) == ["often", "minute"]
    assert timer.due(3600.0) == ["often", "minute", "hourly"]
    assert timer.due(3601.0) == []


def test_a_crontab_entry_has_no_interval_to_run_on():
    from celery.schedules import crontab

    with pytest.raises(TypeError):
        interval_s(crontab(minute=0))


def test_the_timer_thread_sends_every_embedded_entry_at_start_up(monkeypatch):
    sent = []

    class Stop(Exception):
        pass

    def sleep(seconds):
        raise Stop

    monkeypatch.setattr(app, "send_task", lambda name, *a, **kw: sent.append(name))
    monkeypatch.setattr(celery_config.time, "sleep", sleep)

    with pytest.raises(Stop):
        celery_config._run_embedded_schedule()

    assert sorted(sent) == sorted(entry["task"] for entry in embedded_schedule().values())


@pytest.mark.django_db(transaction=True)
def test_a_silent_driver_raises_no_position_in_the_embedded_mode(organization, hub, driver_user):
    """What the timer sends, the in-process worker runs: a driver on an active route who never
    sent a position is an exception for ops, with no beat."""
    import datetime as dt

    from celery import _state

    from common import clock
    from config.celery import start_inprocess_worker
    from dispatch.models import Driver, Plan, PlanStatus, Route, Stop, Vehicle
    from orders.models import Order
    from tracking.models import DeliveryException
    from tracking.selectors.tower import organization_today

    now = clock.now()
    driver = Driver.objects.create(organization=organization, user=driver_user, name="Mikko", home_hub=hub)
    vehicle = Vehicle.objects.create(organization=organization, name="Van 1", type="van", home_hub=hub)
    plan = Plan.objects.create(
        organization=organization, hub=hub, date=organization_today(organization), status=PlanStatus.DISPATCHED
    )
    route = Route.objects.create(
        plan=plan,
        vehicle=vehicle,
        driver=driver,
        start_time=now - dt.timedelta(hours=1),
        end_time=now + dt.timedelta(hours=3),
    )
    order = Order.objects.create(
        organization=organization,
        hub=hub,
        merchant_reference="A",
        customer_name="A",
        address_text="A street",
        lat=60.18,
        lng=24.94,
        status="dispatched",
        delivery_date=plan.date,
    )
    Stop.objects.create(route=route, order=order, sequence=1, planned_arrival=now, planned_departure=now)
    app.conf.task_always_eager = False
    start_inprocess_worker()
    entry = embedded_schedule()["silent-and-idle-drivers"]
    try:
        # Waiting on the result here is the test's own doing (the worker thread marks the process).
        raised = app.send_task(entry["task"]).get(timeout=30, disable_sync_subtasks=False)
    finally:
        _state._set_task_join_will_block(False)
    assert raised == 1
    assert DeliveryException.objects.get(kind="no_position").driver_id == driver.pk
