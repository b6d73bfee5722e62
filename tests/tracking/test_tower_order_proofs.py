"""The tower's order page shows the delivery record and the proofs as images behind URLs that expire."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from dispatch.models import DeliveryProof, StopStatus
from tests.clock import START
from tests.factories.fleet import DriverFactory
from tests.factories.proofs import dispatched_route, image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def ops(dispatcher_user):
    client = Client()
    client.force_login(dispatcher_user)
    return client


@pytest.fixture
def delivered_stop(hub, driver_user):
    """A stop done at 10:04 Helsinki after arriving at 10:00, with the record the driver sent."""
    driver = DriverFactory(home_hub=hub, user=driver_user, name="Mikko Nieminen")
    stop = dispatched_route(hub, driver).stops.get()
    stop.status = StopStatus.DONE
    stop.arrived_at = START + dt.timedelta(hours=2)
    stop.arrival_source = "geofence"
    stop.completed_at = START + dt.timedelta(hours=2, minutes=4)
    stop.service_seconds = 250
    stop.recipient_name = "Aino Virtanen"
    stop.cash_collected = Decimal("25.50")
    stop.code_verified = True
    stop.save()
    stop.order.status = "delivered"
    stop.order.proof_of_delivery = ["signature", "photo", "one_time_code"]
    stop.order.cash_on_delivery = Decimal("25.50")
    stop.order.save()
    # The history row the driver app's completion writes: the phone's fix, not a proof to show.
    stop.order.events.create(
        kind="order_delivered",
        actor="user:acme-driver",
        to_status="delivered",
        details={"device_at": stop.completed_at.isoformat(), "lat": 60.17, "lng": 24.94, "accuracy_m": 8},
    )
    return stop


def add_proof(stop, kind: str, content: bytes, client_id: str) -> DeliveryProof:
    proof = DeliveryProof(
        organization=stop.order.organization,
        driver=stop.route.driver,
        order=stop.order,
        stop=stop,
        client_id=client_id,
        kind=kind,
        content_type="image/png" if kind == "signature" else "image/jpeg",
        size_bytes=len(content),
        width_px=40,
        height_px=30,
        sha256="0" * 64,
        captured_at=START + dt.timedelta(hours=2, minutes=3),
    )
    proof.file.save(f"{client_id}.{'png' if kind == 'signature' else 'jpg'}", ContentFile(content), save=True)
    return proof


def image_urls(page: str) -> list[str]:
    return re.findall(r'<img src="([^"]+)"', page)


def test_the_page_shows_the_record_and_the_proofs_as_images_whose_urls_work_then_expire(
    ops, delivered_stop, time_machine
):
    # given
    signature = image_bytes("PNG")
    photo = image_bytes("JPEG")
    add_proof(delivered_stop, "signature", signature, "sig-1")
    add_proof(delivered_stop, "photo", photo, "photo-1")

    # when
    page = ops.get(f"/tower/orders/{delivered_stop.order_id}/").content.decode()

    # then
    assert 'data-testid="proofs-required">Required: Signature, Photo, One-time code, Cash collected<' in page
    assert 'data-testid="arrived-at">Mon 30 Nov 2026, 10:00 EET (Detected from positions)<' in page
    assert 'data-testid="completed-at">Mon 30 Nov 2026, 10:04 EET<' in page
    assert 'data-testid="service-time">4 min 10 s<' in page
    assert 'data-testid="recipient">Aino Virtanen<' in page
    assert 'data-testid="cash-collected">25.50<' in page
    assert 'data-testid="code-verified">verified<' in page
    assert 'data-testid="proof"' not in page  # the event's raw details are not shown as a proof
    signature_url, photo_url = image_urls(page)
    anyone = Client()
    assert (anyone.get(signature_url)["Content-Type"], anyone.get(photo_url)["Content-Type"]) == (
        "image/png",
        "image/jpeg",
    )
    assert b"".join(anyone.get(signature_url).streaming_content) == signature
    assert b"".join(anyone.get(photo_url).streaming_content) == photo

    time_machine.shift(dt.timedelta(seconds=901))
    assert (anyone.get(signature_url).status_code, anyone.get(photo_url).status_code) == (403, 403)
    fresh = image_urls(ops.get(f"/tower/orders/{delivered_stop.order_id}/").content.decode())
    assert [anyone.get(url).status_code for url in fresh] == [200, 200]


def test_a_failed_attempt_shows_its_reason_and_note(ops, hub, driver_user):
    driver = DriverFactory(home_hub=hub, user=driver_user)
    stop = dispatched_route(hub, driver).stops.get()
    stop.status = StopStatus.FAILED
    stop.arrived_at = START + dt.timedelta(hours=1)
    stop.completed_at = START + dt.timedelta(hours=1, minutes=2)
    stop.failure_reason = "customer_absent"
    stop.failure_note = "Nobody answered the door"
    stop.save()

    page = ops.get(f"/tower/orders/{stop.order_id}/").content.decode()

    assert 'data-testid="failure-reason">Customer not at home · Nobody answered the door<' in page
    assert 'data-testid="code-verified"' not in page
    assert "<img" not in page


def test_an_order_without_any_record_says_so(ops, hub, driver_user):
    driver = DriverFactory(home_hub=hub, user=driver_user)
    stop = dispatched_route(hub, driver).stops.get()

    page = ops.get(f"/tower/orders/{stop.order_id}/").content.decode()

    assert "Nothing recorded yet." in page
    assert 'data-testid="delivery-record"' not in page


def test_the_organization_default_is_the_requirement_of_an_order_naming_none(ops, delivered_stop, organization):
    organization.proof_of_delivery_default = ["photo", "recipient_name"]
    organization.save()
    delivered_stop.order.proof_of_delivery = []
    delivered_stop.order.cash_on_delivery = None
    delivered_stop.order.save()

    page = ops.get(f"/tower/orders/{delivered_stop.order_id}/").content.decode()

    assert 'data-testid="proofs-required">Required: Photo, Recipient&#x27;s name<' in page
