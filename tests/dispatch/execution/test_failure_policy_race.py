"""Two deliveries of one stop's failure at the same moment, against real Postgres: one decision.

Both deliveries find no decision yet and then queue on the lock a dispatcher holds (the plan's,
which a re-attempt takes first, or the order's); when it is released one decides and the other
finds that decision.
"""

import threading

import psycopg
import pytest
from django.db import connection

from accounts.models import Organization
from dispatch.execution.policy import failure_policy_apply
from dispatch.models import Stop
from orders.models import Order, OrderEvent
from tests.concurrency import run_together
from tests.dispatch.execution.failures import first_stop, now, route  # noqa: F401
from tests.factories.fleet import SlotTemplateFactory
from tests.workers import wait_for

# Shared fixtures are imported above; pyflakes reads their use as arguments as redefinitions.
# ruff: noqa: F811

pytestmark = pytest.mark.django_db(transaction=True)


def sessions_waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize(
    ("reattempt_same_day", "locked", "action", "status"),
    [(True, "dispatch_plan", "reattempt_same_day", "dispatched"), (False, "orders_order", "next_slot", "rescheduled")],
    ids=["reattempt", "next-slot"],
)
def test_two_deliveries_of_one_failure_take_one_decision(
    postgres, route, hub, reattempt_same_day, locked, action, status
):
    SlotTemplateFactory(hub=hub)
    Organization.objects.filter(pk=hub.organization_id).update(reattempt_same_day=reattempt_same_day)
    stop = first_stop(route)
    # The state the driver app commits, written directly: a transition here would already run the
    # policy on commit (the suite runs tasks eagerly).
    Order.objects.filter(pk=stop.order_id).update(status="failed", delivery_attempts=1)
    Stop.objects.filter(pk=stop.pk).update(status="failed", failure_reason="customer_absent")
    row = route.plan_id if locked == "dispatch_plan" else stop.order_id
    db = connection.settings_dict
    dispatcher = psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], password=db["PASSWORD"] or None, dbname=db["NAME"]
    )
    results: list = []
    deliveries = threading.Thread(
        target=lambda: results.extend(run_together([lambda: failure_policy_apply(stop_id=stop.pk)] * 2))
    )
    try:
        with dispatcher.transaction():
            dispatcher.execute(f"SELECT id FROM {locked} WHERE id = %s FOR UPDATE", [row])
            deliveries.start()
            assert wait_for(lambda: sessions_waiting_on_a_lock() == 2)
        deliveries.join(timeout=60)
    finally:
        dispatcher.close()

    first, second = results
    assert first == second
    assert first.action == action
    assert OrderEvent.objects.filter(order_id=stop.order_id, kind="failure_policy_decided").count() == 1
    assert OrderEvent.objects.filter(order_id=stop.order_id, kind="order_rescheduled").count() == 1
    assert Order.objects.get(pk=stop.order_id).status == status
    assert Stop.objects.filter(order_id=stop.order_id).count() == (2 if reattempt_same_day else 1)
