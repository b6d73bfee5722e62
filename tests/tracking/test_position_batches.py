"""Positions of many sockets recorded a batch at a time: one commit for all, each failing alone."""

import asyncio
import datetime as dt

import pytest
from django.db import connection, transaction

from accounts.models import User
from dispatch.models import Driver
from tracking import protocol
from tracking.consumers import PositionQueue
from tracking.models import DriverPosition, LatestPosition
from tracking.services import positions


def message(seconds_ago: int = 5, lat: float = 60.1749) -> dict:
    recorded = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds_ago)
    return {"type": "position", "recorded_at": recorded.isoformat(), "lat": lat, "lng": 24.9384}


@pytest.fixture
def drivers(organization, hub, driver):
    others = [
        Driver.objects.create(
            organization=organization,
            home_hub=hub,
            name=f"Driver {n}",
            user=User.objects.create(username=f"driver-{n}", organization=organization, role="driver"),
        )
        for n in (2, 3)
    ]
    return [driver, *others]


@pytest.mark.django_db(transaction=True)
def test_a_batch_of_drivers_is_committed_once_and_acked_in_order(route, drivers, monkeypatch):
    commits = []
    commit = connection.commit
    monkeypatch.setattr(connection, "commit", lambda: commits.append(1) or commit())
    # Out of id order on purpose: locks are taken in id order, acks come back in the order given.
    items = [(drivers[2], message(lat=60.17)), (drivers[0], message(lat=60.18)), (drivers[1], {"type": "position"})]

    acks = protocol.position_messages_receive(items)

    assert len(commits) == 1
    assert [ack["accepted"] for ack in acks] == [1, 1, 0]
    assert acks[2]["rejected"][0]["reason"] == "malformed"
    assert LatestPosition.objects.get(driver=drivers[2]).lat == 60.17
    assert LatestPosition.objects.get(driver=drivers[0]).lat == 60.18


@pytest.mark.django_db(transaction=True)
def test_a_failing_message_fails_alone_and_the_rest_of_its_batch_is_kept(route, drivers, caplog):
    gone = drivers[1]
    Driver.objects.filter(pk=gone.pk).delete()  # deleted while its socket was still open

    acks = protocol.position_messages_receive([(drivers[0], message()), (gone, message()), (drivers[2], message())])

    assert [acks[0]["accepted"], acks[2]["accepted"]] == [1, 1]
    assert isinstance(acks[1], Exception)
    assert set(DriverPosition.objects.values_list("driver_id", flat=True)) == {drivers[0].pk, drivers[2].pk}
    assert "A batch of 3 positions failed" in caplog.text  # ops can see batches falling back


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_position_leaves_nothing_remembered(route, driver):
    """Where the driver was heading is remembered after commit, so a retried position sends the same pushes."""
    positions._HEADING.pop(driver.pk, None)
    fix = {**message(), "recorded_at": dt.datetime.now(dt.UTC)}
    with pytest.raises(RuntimeError):
        failing_batch(driver, fix)

    assert driver.pk not in positions._HEADING
    positions.position_receive(driver=driver, fixes=[{**message(), "recorded_at": dt.datetime.now(dt.UTC)}])
    assert positions._HEADING[driver.pk] == route.stops.get(sequence=1).order_id


def failing_batch(driver, fix: dict) -> None:
    with transaction.atomic():
        positions.position_receive(driver=driver, fixes=[fix])
        raise RuntimeError("the batch failed")


class Recorder:
    """Records like the database would, but only when the test lets it: batches can be watched forming."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = asyncio.Event()

    async def __call__(self, items):
        self.batches.append([m["ref"] for _driver, m in items])
        await self.release.wait()
        return [ValueError(m["ref"]) if m["ref"] == "bad" else {"ref": m["ref"]} for _driver, m in items]


@pytest.mark.asyncio
async def test_messages_arriving_while_batches_are_recorded_form_the_next_batch():
    recorder = Recorder()
    queue = PositionQueue(recorder)
    first = []
    for ref in ("a", "b"):  # while there is room for another batch, nothing waits
        first.append(asyncio.create_task(queue.receive(None, {"ref": ref})))
        await asyncio.sleep(0.01)
    later = [asyncio.create_task(queue.receive(None, {"ref": ref})) for ref in ("c", "bad", "e")]
    await asyncio.sleep(0.01)
    assert recorder.batches == [["a"], ["b"]]

    recorder.release.set()
    results = await asyncio.gather(*first, *later, return_exceptions=True)

    assert recorder.batches == [["a"], ["b"], ["c", "bad", "e"]]
    assert [r["ref"] if isinstance(r, dict) else repr(r) for r in results] == ["a", "b", "c", "ValueError('bad')", "e"]
    assert (queue.in_flight, queue.waiting) == (0, [])
