"""GET /api/orders/{id}/proofs and /proofs/<token>: ops and the merchant see proofs through URLs that expire."""

import datetime as dt
import json
import os
import subprocess
import sys

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.test import Client

from accounts.models import ApiKeyScope
from accounts.services import api_key_create, user_create
from dispatch.execution.proofs import proof_url
from dispatch.models import DeliveryProof
from tests.clock import START
from tests.conftest import client_for
from tests.factories.fleet import DriverFactory
from tests.factories.proofs import dispatched_route, image_bytes

pytestmark = pytest.mark.django_db
MAX_AGE = dt.timedelta(seconds=900)


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def stop(hub, driver_user):
    driver = DriverFactory(home_hub=hub, user=driver_user)
    return dispatched_route(hub, driver).stops.get()


@pytest.fixture
def photo_bytes():
    return image_bytes("JPEG", size=(64, 48))


@pytest.fixture
def proof(stop, photo_bytes):
    proof = DeliveryProof(
        organization=stop.order.organization,
        driver=stop.route.driver,
        order=stop.order,
        stop=stop,
        client_id="p-1",
        kind="photo",
        content_type="image/jpeg",
        size_bytes=len(photo_bytes),
        width_px=64,
        height_px=48,
        sha256="0" * 64,
        captured_at=START,
    )
    proof.file.save("photo.jpg", ContentFile(photo_bytes), save=True)
    return proof


def listed(client, order) -> list[dict]:
    response = client.get(f"/api/orders/{order.pk}/proofs")
    assert response.status_code == 200
    return response.json()


def test_ops_list_an_orders_proofs_with_a_signed_url(dispatcher_client, proof):
    [item] = listed(dispatcher_client, proof.order)

    url = item.pop("url")
    assert item == {
        "id": proof.pk,
        "kind": "photo",
        "captured_at": "2026-11-30T06:00:00Z",
        "uploaded_at": proof.uploaded_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "content_type": "image/jpeg",
        "size_bytes": proof.size_bytes,
    }
    assert url.startswith(f"http://testserver/proofs/{proof.pk}:")


def test_a_read_only_merchant_key_lists_the_proofs_too(organization, proof):
    key, raw = api_key_create(organization=organization, created_by=None, name="Shop", scope=ApiKeyScope.READ)
    client = Client(headers={"Authorization": f"Bearer {raw}"})

    [item] = listed(client, proof.order)

    assert item["id"] == proof.pk


def test_drivers_cannot_list_proofs_and_other_organizations_see_nothing(driver_client, other_organization, proof):
    outsider = user_create(organization=other_organization, username="o", password="pw-12345!", role="admin")

    assert driver_client.get(f"/api/orders/{proof.order_id}/proofs").status_code == 403
    assert client_for(outsider).get(f"/api/orders/{proof.order_id}/proofs").status_code == 404


def test_the_signed_url_streams_the_file_with_its_content_type(client, viewer_client, proof, photo_bytes):
    [item] = listed(viewer_client, proof.order)

    response = client.get(item["url"])

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content) == photo_bytes


def test_the_url_works_until_its_lifetime_then_answers_403_without_the_file(client, proof, time_machine):
    path = proof_url(proof)

    time_machine.shift(MAX_AGE - dt.timedelta(seconds=5))
    still = client.get(path)
    time_machine.shift(dt.timedelta(seconds=10))
    expired = client.get(path)

    assert still.status_code == 200
    assert expired.status_code == 403
    assert not getattr(expired, "streaming", False)
    assert b"\xff\xd8" not in expired.content


def test_the_lifetime_is_a_setting(client, proof, settings, time_machine):
    settings.WAYPOINT_PROOF_URL_MAX_AGE_S = 60
    path = proof_url(proof)

    time_machine.shift(dt.timedelta(seconds=61))

    assert client.get(path).status_code == 403


def test_a_tampered_token_answers_403(client, proof, stop):
    token = proof_url(proof).rsplit("/", 1)[1]
    other_id = DeliveryProof.objects.create(
        organization=proof.organization,
        driver=proof.driver,
        order=proof.order,
        stop=stop,
        client_id="p-2",
        kind="signature",
        file="proofs/x.png",
        content_type="image/png",
        size_bytes=1,
        sha256="1" * 64,
        captured_at=START,
    ).pk

    for forged in (f"{other_id}:{token.split(':', 1)[1]}", token[:-1] + ("A" if token[-1] != "A" else "B"), "1"):
        response = client.get(f"/proofs/{forged}")
        assert response.status_code == 403, forged
        assert not getattr(response, "streaming", False)


def test_a_proof_that_is_gone_answers_404(client, proof):
    path = proof_url(proof)
    proof.delete()

    assert client.get(path).status_code == 404


class PresigningStorage(FileSystemStorage):
    """Stands for S3's storage, which answers `url()` with a presigned, expiring URL."""

    def url(self, name):
        return f"https://bucket.example/{name}?X-Amz-Expires=900"


def test_with_storage_signed_urls_the_storages_url_is_the_proofs_url(proof, settings, media_root):
    """With S3, the presigned URL the storage makes is the URL; Waypoint's own token is not used."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.PresigningStorage", "OPTIONS": {"location": media_root}},
    }
    settings.WAYPOINT_PROOF_URLS_FROM_STORAGE = True
    proof = DeliveryProof.objects.get(pk=proof.pk)

    assert proof_url(proof) == f"https://bucket.example/{proof.file.name}?X-Amz-Expires=900"


def test_an_s3_bucket_in_the_environment_switches_the_default_storage_to_s3():
    """WAYPOINT_MEDIA_S3_BUCKET selects django-storages' S3 backend, private, presigning for the URL lifetime."""
    script = (
        "import json; from django.conf import settings; "
        "print(json.dumps([settings.STORAGES['default'], settings.WAYPOINT_PROOF_URLS_FROM_STORAGE]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "WAYPOINT_MEDIA_S3_BUCKET": "proofs",
        "WAYPOINT_MEDIA_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "WAYPOINT_PROOF_URL_MAX_AGE_S": "600",
    }
    for unset in (
        "WAYPOINT_MEDIA_S3_PREFIX",
        "WAYPOINT_MEDIA_S3_REGION",
        "WAYPOINT_MEDIA_S3_ACCESS_KEY_ID",
        "WAYPOINT_MEDIA_S3_SECRET_ACCESS_KEY",
    ):
        env.pop(unset, None)

    output = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True, cwd=settings_dir()
    ).stdout

    assert json.loads(output) == [
        {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "proofs",
                "location": "",
                "default_acl": None,
                "querystring_auth": True,
                "querystring_expire": 600,
                "file_overwrite": False,
                "endpoint_url": "http://127.0.0.1:9000",
            },
        },
        True,
    ]


def settings_dir() -> str:
    from django.conf import settings

    return str(settings.BASE_DIR)
