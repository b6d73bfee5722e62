"""What one position costs: it runs for every fix of every driver (bench/tracking_load.py)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from common import realtime
from tracking.services.positions import position_receive

pytestmark = pytest.mark.django_db


def test_a_position_on_a_route_takes_three_statements(route, driver):
    """Move the latest, add to the history, read the itinerary; ETAs are written only when they move."""
    fix = {"recorded_at": dt.datetime.now(dt.UTC) - dt.timedelta(seconds=10), "lat": 60.1749, "lng": 24.9384}
    position_receive(driver=driver, fixes=[fix])  # the first fix creates the latest and the estimates

    again = {**fix, "recorded_at": fix["recorded_at"] + dt.timedelta(seconds=5), "lat": 60.17491}
    with CaptureQueriesContext(connection) as queries:
        result = position_receive(driver=driver, fixes=[again])

    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert result.latest_changed
    assert [sql.split()[0] for sql in statements] == ["UPDATE", "INSERT", "SELECT"], statements


def test_pushes_outside_a_server_are_sent_at_once(monkeypatch):
    """A Celery worker or a script has no server loop to coalesce on: nothing waits for a batch."""
    sent = []
    monkeypatch.setattr(realtime, "_publish_many_now", sent.append)

    realtime._publish_batched_now([("org-1.tower", {"type": "kpis"})])

    assert sent == [[("org-1.tower", {"type": "kpis"})]]
