"""Live reactions delivered by a real Celery worker (Redis broker, shared Postgres), and what a
worker killed in the middle of one leaves behind."""

import signal

import psycopg
import pytest
from django.db import connection

from common.events import ORDER_CANCELLED
from common.models import EventReceipt, OutboxEvent
from common.tasks import events_sweep_task
from dispatch.models import Plan, Stop
from dispatch.planning.services.plans import plan_dispatch
from orders.models import Order
from tests.workers import celery_worker_process, wait_for

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]


def cancelled_awaiting_reaction(stop: Stop) -> OutboxEvent:
    """What the cancel request commits: the order cancelled and its event, the reaction still to run."""
    Order.objects.filter(pk=stop.order_id).update(status="cancelled")
    payload = {"order_id": stop.order_id, "organization_id": stop.order.organization_id, "from": "dispatched"}
    return OutboxEvent.objects.create(name=ORDER_CANCELLED, payload={**payload, "reason": ""})


def sessions_waiting_on_a_lock() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return [pid for (pid,) in cursor.fetchall()]


def session_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 1


def test_a_worker_delivers_events_and_one_killed_mid_delivery_leaves_nothing_half_done(
    postgres, redis_url, actor, optimized_plan
):
    """The killed delivery rolls back whole (no stop dropped, no receipt); the sweep delivers it once."""
    from celery import Celery

    plan = optimized_plan(parcels=5)
    plan = plan_dispatch(actor=actor, plan=plan, expected_version=plan.version)
    first, second = Stop.objects.filter(route__plan=plan).select_related("order").order_by("route_id", "sequence")[:2]
    worker, queue = celery_worker_process(redis_url)
    producer = Celery("test-producer", broker=redis_url, backend=redis_url, set_as_current=False)
    db = connection.settings_dict
    dispatcher = psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"] or None, dbname=db["NAME"]
    )
    try:
        # given: a worker delivers a cancellation: the stop leaves the route
        delivered = cancelled_awaiting_reaction(first)
        producer.send_task("common.tasks.events_deliver_task", args=[[delivered.pk]], queue=queue)
        assert wait_for(lambda: Stop.objects.get(pk=first.pk).status == "dropped")
        assert wait_for(lambda: OutboxEvent.objects.get(pk=delivered.pk).delivered_at is not None)

        # when: the next cancellation's reaction waits for the plan, which a dispatcher is editing,
        # and the worker is killed there
        with dispatcher.transaction():
            dispatcher.execute("SELECT id FROM dispatch_plan WHERE id = %s FOR UPDATE", [plan.pk])
            lost = cancelled_awaiting_reaction(second)
            producer.send_task("common.tasks.events_deliver_task", args=[[lost.pk]], queue=queue)
            assert wait_for(lambda: len(sessions_waiting_on_a_lock()) == 1)
            [blocked] = sessions_waiting_on_a_lock()
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
        dispatcher.close()
        assert wait_for(lambda: not session_alive(blocked))  # the killed worker's transaction has ended

        # then: nothing of that delivery remains
        assert Stop.objects.get(pk=second.pk).status == "planned"
        assert OutboxEvent.objects.get(pk=lost.pk).delivered_at is None
        assert not EventReceipt.objects.filter(event=lost).exists()

        # and the sweep hands the event to a worker (here: this process, tasks run eagerly) once overdue
        assert events_sweep_task(0) == 1
        assert Stop.objects.get(pk=second.pk).status == "dropped"
        # (notifications' subscriber to the same event has a receipt of its own)
        reaction = EventReceipt.objects.filter(event=lost, subscriber__startswith="dispatch.")
        assert list(reaction.values_list("status", "attempts")) == [("done", 1)]
        assert Plan.objects.get(pk=plan.pk).stop_count == 4
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.communicate(timeout=30)
        producer.close()
        dispatcher.close()
