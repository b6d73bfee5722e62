"""POST /api/driver/proofs: a driver's signature or photo, checked by its content, stored once."""

import hashlib
from pathlib import Path

import pytest

from dispatch.models import DeliveryProof, Hub
from tests.conftest import client_for
from tests.factories.fleet import DriverFactory
from tests.factories.proofs import dispatched_route, driver_for, image_bytes, upload

pytestmark = pytest.mark.django_db
CAPTURED_AT = "2026-11-30T07:55:00+02:00"
EIGHT_MB = 8 * 1024 * 1024


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def driver(hub, driver_user):
    return DriverFactory(home_hub=hub, user=driver_user, name="Mikko Nieminen")


@pytest.fixture
def stop(hub, driver):
    return dispatched_route(hub, driver).stops.get()


def stored_files(media_root) -> list[Path]:
    return sorted(path for path in Path(media_root).rglob("*") if path.is_file())


def post(client, stop, file, *, client_id="p-1", kind="signature"):
    body = {"client_id": client_id, "stop_id": stop.pk, "kind": kind, "captured_at": CAPTURED_AT, "file": file}
    return client.post("/api/driver/proofs", body, format="multipart")


def test_a_png_signature_is_stored_with_its_type_size_dimensions_and_digest(driver_client, driver, stop, media_root):
    content = image_bytes("PNG", size=(320, 120))

    response = post(driver_client, stop, upload(content, "signature.png", "image/png"))

    assert response.status_code == 201
    proof = DeliveryProof.objects.get()
    assert response.json() == {
        "id": proof.pk,
        "client_id": "p-1",
        "kind": "signature",
        "content_type": "image/png",
        "size_bytes": len(content),
    }
    assert (proof.driver, proof.stop, proof.order, proof.organization) == (
        driver,
        stop,
        stop.order,
        stop.order.organization,
    )
    assert (proof.width_px, proof.height_px) == (320, 120)
    assert proof.sha256 == hashlib.sha256(content).hexdigest()
    assert proof.captured_at.isoformat() == "2026-11-30T05:55:00+00:00"
    assert proof.file.name.startswith("proofs/2026/11/30/")
    assert proof.file.name.endswith(".png")
    assert stored_files(media_root) == [Path(media_root) / proof.file.name]
    assert (Path(media_root) / proof.file.name).read_bytes() == content


@pytest.mark.parametrize(
    ("image_format", "content_type"), [("JPEG", "image/jpeg"), ("WEBP", "image/webp")], ids=["jpeg", "webp"]
)
def test_jpeg_and_webp_photos_are_accepted_by_content_whatever_the_name(
    driver_client, stop, image_format, content_type
):
    response = post(driver_client, stop, upload(image_bytes(image_format), "photo.bin", "application/x-anything"))

    assert response.status_code == 201
    assert response.json()["content_type"] == content_type
    assert DeliveryProof.objects.get().file.name.endswith("." + {"JPEG": "jpg", "WEBP": "webp"}[image_format])


def test_a_text_file_named_jpg_is_refused_as_unsupported_and_nothing_is_stored(driver_client, stop, media_root):
    response = post(driver_client, stop, upload(b"I am not a photo, only text.\n", "door.jpg", "image/jpeg"))

    assert response.status_code == 415
    assert response.json() == {
        "code": "proof_type_unsupported",
        "message": "The proof must be a JPEG, PNG or WebP image.",
        "errors": {"file": ["The file is not a JPEG, PNG or WebP image."]},
    }
    assert DeliveryProof.objects.count() == 0
    assert stored_files(media_root) == []


def test_a_gif_is_an_image_but_not_an_accepted_one(driver_client, stop):
    response = post(driver_client, stop, upload(image_bytes("GIF"), "door.gif", "image/gif"))

    assert response.status_code == 415
    assert response.json()["errors"] == {"file": ["GIF images are not accepted; send JPEG, PNG or WebP."]}
    assert DeliveryProof.objects.count() == 0


def test_a_truncated_jpeg_is_refused_as_damaged(driver_client, stop, media_root):
    content = image_bytes("JPEG", size=(400, 300))

    response = post(driver_client, stop, upload(content[: len(content) // 2]))

    assert response.status_code == 400
    assert response.json()["code"] == "proof_image_invalid"
    assert DeliveryProof.objects.count() == 0
    assert stored_files(media_root) == []


def test_a_file_over_8_mb_is_refused_with_413_and_nothing_is_stored(driver_client, stop, media_root):
    content = image_bytes("JPEG")
    too_big = content + b"\0" * (EIGHT_MB + 1 - len(content))

    response = post(driver_client, stop, upload(too_big))

    assert response.status_code == 413
    assert response.json() == {
        "code": "proof_too_large",
        "message": "The proof file is too large.",
        "errors": {"file": ["The file is 8.0 MB; at most 8.0 MB is accepted."]},
    }
    assert DeliveryProof.objects.count() == 0
    assert stored_files(media_root) == []


def test_the_size_limit_is_a_setting(driver_client, stop, settings):
    settings.WAYPOINT_PROOF_MAX_BYTES = 100
    content = image_bytes("PNG")
    assert len(content) > 100

    response = post(driver_client, stop, upload(content, "s.png", "image/png"))

    assert response.status_code == 413
    assert DeliveryProof.objects.count() == 0


def test_a_replayed_upload_answers_200_with_the_stored_proof_and_stores_nothing(driver_client, stop, media_root):
    first = post(driver_client, stop, upload(image_bytes("PNG"), "s.png", "image/png"))

    replay = post(driver_client, stop, upload(image_bytes("JPEG", size=(10, 10))), kind="photo")

    assert (first.status_code, replay.status_code) == (201, 200)
    assert replay.json() == first.json()
    assert DeliveryProof.objects.count() == 1
    assert len(stored_files(media_root)) == 1


def test_the_same_client_id_from_another_driver_is_another_proof(hub, driver_client, stop):
    other = driver_for(hub, "acme-driver-2")
    other_stop = dispatched_route(hub, other).stops.get()
    other_client = client_for(other.user)

    mine = post(driver_client, stop, upload(image_bytes()))
    theirs = post(other_client, other_stop, upload(image_bytes()))

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert DeliveryProof.objects.count() == 2


def test_another_drivers_stop_is_refused_and_nothing_is_stored(hub, driver_client, driver, media_root):
    someone_else = driver_for(hub, "acme-driver-2")
    their_stop = dispatched_route(hub, someone_else).stops.get()

    response = post(driver_client, their_stop, upload(image_bytes()))

    assert response.status_code == 409
    assert response.json() == {
        "code": "stop_reassigned",
        "message": "This stop is no longer on your route; it was moved to another driver.",
    }
    assert DeliveryProof.objects.count() == 0
    assert stored_files(media_root) == []


def test_a_stop_of_another_organization_is_unknown(driver_client, other_organization):
    other_hub = Hub.objects.create(
        organization=other_organization, code="x", name="X", address="X 1", lat=60.2, lng=24.9, timezone="UTC"
    )
    foreign_stop = dispatched_route(other_hub, driver_for(other_hub, "other-driver")).stops.get()

    response = post(driver_client, foreign_stop, upload(image_bytes()))

    assert response.status_code == 400
    assert response.json()["errors"] == {"stop_id": ["No such stop in your organization."]}
    assert DeliveryProof.objects.count() == 0


def test_missing_fields_are_named(driver_client):
    response = driver_client.post("/api/driver/proofs", {"kind": "selfie"}, format="multipart")

    assert response.status_code == 400
    assert sorted(response.json()["errors"]) == ["captured_at", "client_id", "file", "kind", "stop_id"]


def test_a_dispatcher_uploads_for_the_stops_driver(dispatcher_client, driver, stop):
    response = post(dispatcher_client, stop, upload(image_bytes()), kind="photo")

    assert response.status_code == 201
    assert DeliveryProof.objects.get().driver == driver


def test_api_keys_and_viewers_cannot_upload(merchant_client, viewer_client, stop):
    by_key = post(merchant_client, stop, upload(image_bytes()))
    by_viewer = post(viewer_client, stop, upload(image_bytes()))

    assert (by_key.status_code, by_key.json()["message"]) == (
        403,
        "Proofs come from the driver's own sign-in, not API keys.",
    )
    assert by_viewer.status_code == 403
    assert DeliveryProof.objects.count() == 0
