"""Two syncs of one phone upload the same proof at the same moment: one row, one file, one answer."""

from pathlib import Path

import pytest

from accounts.tenancy import Actor
from dispatch.execution.proofs import proof_upload
from dispatch.models import DeliveryProof
from tests.clock import START
from tests.concurrency import run_together
from tests.factories.proofs import dispatched_route, driver_for, image_bytes, upload


@pytest.mark.django_db(transaction=True)
def test_the_same_upload_twice_at_once_stores_one_proof_and_one_file(postgres, hub, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    driver = driver_for(hub, "acme-driver")
    stop = dispatched_route(hub, driver).stops.get()
    actor = Actor(organization=hub.organization, user=driver.user)
    content = image_bytes("JPEG", size=(800, 600))

    def send():
        proof, created = proof_upload(
            actor=actor,
            driver=driver,
            stop=stop,
            client_id="p-race",
            kind="photo",
            captured_at=START,
            file=upload(content),
        )
        return proof.pk, created

    results = run_together([send, send])

    assert sorted(created for _pk, created in results) == [False, True]
    assert len({pk for pk, _created in results}) == 1
    proof = DeliveryProof.objects.get()
    assert [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()] == [
        Path(settings.MEDIA_ROOT) / proof.file.name
    ]
