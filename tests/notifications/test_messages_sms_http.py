"""The generic HTTP SMS provider against a real local receiver: credentials and body template,
the provider's id and cost kept, a failure retried with capped exponential backoff."""

import datetime as dt
import json
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from notifications.models import Message, MessageKind, MessageStatus
from notifications.rules import rule_set
from notifications.services.messages import MAX_ATTEMPTS
from notifications.tasks import messages_sweep_task
from orders.services import order_cancel
from tests.clock import START

pytestmark = pytest.mark.django_db


class Gateway:
    """A local SMS gateway answering each request with the next scripted (status, body)."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests: list[dict] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers["Content-Length"])
                gateway.requests.append(
                    {"authorization": self.headers["Authorization"], "body": json.loads(self.rfile.read(length))}
                )
                status, body = gateway.answers.pop(0) if len(gateway.answers) > 1 else gateway.answers[0]
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway(settings):
    def start(*answers):
        server = Gateway(answers)
        started.append(server)
        settings.WAYPOINT_SMS_PROVIDER = "http"
        settings.WAYPOINT_SMS_HTTP_URL = server.url
        settings.WAYPOINT_SMS_HTTP_TOKEN = "gateway-secret"
        return server

    started: list[Gateway] = []
    yield start
    for server in started:
        server.close()


@pytest.fixture
def sms_only(organization):
    rule_set(organization=organization, kind=MessageKind.CANCELLED, channel="email", enabled=False)
    rule_set(organization=organization, kind=MessageKind.CANCELLED, channel="sms", enabled=True)


def test_a_failing_gateway_is_retried_with_backoff_and_the_sms_goes_out_when_it_recovers(
    gateway, sms_only, dispatcher_actor, make_stop, time_machine, django_capture_on_commit_callbacks
):
    # given: the gateway fails twice, then accepts with an id and a cost
    receiver = gateway((503, {"error": "busy"}), (500, {"error": "down"}), (200, {"id": "gw-42", "cost": "0.045"}))
    stop = make_stop()
    time_machine.move_to(START, tick=False)

    # when: the cancel commits; the first attempt fails
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(actor=dispatcher_actor, order=stop.order, reason="customer asked")

    message = Message.objects.get()
    assert (message.status, message.attempts) == (MessageStatus.QUEUED, 1)
    assert message.next_attempt_at == START + dt.timedelta(seconds=30)
    assert "503" in message.error
    # not before it is due
    assert messages_sweep_task() == 0

    # the second fails too and waits twice as long
    time_machine.move_to(START + dt.timedelta(seconds=30), tick=False)
    messages_sweep_task()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.QUEUED, 2)
    assert message.next_attempt_at == START + dt.timedelta(seconds=90)

    # then: the third goes out, with the gateway's id and cost logged
    time_machine.move_to(START + dt.timedelta(seconds=90), tick=False)
    messages_sweep_task()
    message.refresh_from_db()
    assert (message.status, message.attempts, message.provider_id, message.cost, message.error) == (
        MessageStatus.SENT,
        3,
        "gw-42",
        Decimal("0.045"),
        "",
    )
    assert len(receiver.requests) == 3
    request = receiver.requests[-1]
    assert request["authorization"] == "Bearer gateway-secret"
    assert request["body"] == {"to": "+358 40 123 4567", "from": "Waypoint", "text": message.body}


def test_a_gateway_that_never_recovers_fails_the_message_after_the_last_attempt(
    gateway, sms_only, dispatcher_actor, make_stop, time_machine, django_capture_on_commit_callbacks
):
    receiver = gateway((500, {"error": "down"}))
    stop = make_stop()
    time_machine.move_to(START, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(actor=dispatcher_actor, order=stop.order, reason="customer asked")

    waits = []
    message = Message.objects.get()
    while message.status == MessageStatus.QUEUED:
        waits.append(message.next_attempt_at)
        time_machine.move_to(message.next_attempt_at, tick=False)
        messages_sweep_task()
        message.refresh_from_db()

    assert (message.status, message.attempts) == (MessageStatus.FAILED, MAX_ATTEMPTS)
    assert len(receiver.requests) == MAX_ATTEMPTS
    gaps = [later - earlier for earlier, later in zip(waits, waits[1:], strict=False)]
    # doubling from 30 s and capped at 30 minutes
    assert gaps[0] == dt.timedelta(seconds=60)
    cap = dt.timedelta(minutes=30)
    assert all(later == min(earlier * 2, cap) for earlier, later in zip(gaps, gaps[1:], strict=False))
    assert gaps[-1] == cap
    assert messages_sweep_task() == 0


def test_an_http_provider_without_an_address_fails_the_attempt_and_is_retried(
    settings, sms_only, dispatcher_actor, make_stop, time_machine, django_capture_on_commit_callbacks
):
    settings.WAYPOINT_SMS_PROVIDER, settings.WAYPOINT_SMS_HTTP_URL = "http", ""
    stop = make_stop()
    time_machine.move_to(START, tick=False)

    with django_capture_on_commit_callbacks(execute=True):
        order_cancel(actor=dispatcher_actor, order=stop.order, reason="customer asked")

    message = Message.objects.get()
    assert (message.status, message.attempts, message.next_attempt_at) == (
        MessageStatus.QUEUED,
        1,
        START + dt.timedelta(seconds=30),
    )
    assert message.error == "WAYPOINT_SMS_HTTP_URL must be set to the gateway's http(s) address"
