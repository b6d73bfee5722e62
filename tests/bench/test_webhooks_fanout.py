"""The webhooks benchmark's receivers check what they count: Waypoint's signature, by the reference library."""

import datetime as dt
import json
import time

from bench.webhooks_fanout import RemoteReceiver
from notifications.webhooks import client
from notifications.webhooks.signing import secret_new, signed_headers


def test_bench_receiver_records_a_request_waypoint_signed_and_rejects_one_signed_with_another_secret(settings):
    # Given a bench receiver holding its endpoint's secret, on loopback
    settings.WAYPOINT_WEBHOOKS_ALLOW_PRIVATE = True
    receiver = RemoteReceiver("r0")  # in a process of its own, as the benchmark runs it
    secret = secret_new()
    receiver.set_secret(secret)
    receiver.up()
    body = json.dumps({"id": "evt_1", "type": "order.created", "data": {"order": {"id": 7}}})
    # The reference library rejects timestamps five minutes off its own wall clock, not the suite's.
    now = dt.datetime.fromtimestamp(time.time(), dt.UTC)
    signed = signed_headers(event_id="evt_1", at=now, body=body, secrets_in_use=[secret])
    forged = signed_headers(event_id="evt_2", at=now, body=body, secrets_in_use=[secret_new()])

    # When Waypoint's client sends both
    try:
        answers = [client.post(receiver.url, body=body.encode(), headers=h) for h in (signed, forged)]
    finally:
        receiver.stop()

    # Then only the one it signed with the endpoint's secret is counted
    assert [answer.status for answer in answers] == [204, 400]
    assert [r[:3] for r in receiver.received] == [("evt_1", "order.created", 7)]
    assert receiver.rejected == 1
