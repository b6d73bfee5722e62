"""Proofs of delivery: the files a driver captures at the door, and the signed URLs that show them.

An upload is validated by its content, never its name or declared type: Pillow must recognise a
JPEG, PNG or WebP image within WAYPOINT_PROOF_MAX_BYTES. The file goes through Django's storage API
under a name Waypoint makes, so a phone cannot choose where it lands. The phone's id for the proof
is the idempotency key: a replayed upload (the answer was lost, the queue synced twice) gets the
stored row back and stores nothing.

Ops and merchants see a proof through a URL that expires: Waypoint's own `/proofs/<token>` view
with a TimestampSigner token over the proof's id, or, when the storage signs its own URLs (S3's
presigned URLs), the storage's URL. `proof_url` is the one place that decides.
"""

import datetime as dt
import hashlib
import uuid
import warnings

from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from PIL import Image, UnidentifiedImageError

from accounts.tenancy import Actor
from common.errors import ConflictError, FieldValidationError
from common.events import PROOF_ADDED, publish_on_commit
from dispatch.models import DeliveryProof, Driver, ProofKind, Stop, StopStatus
from orders.models import Order

# Pillow format name -> (content type, file extension) of the formats a proof may have.
ACCEPTED_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
# A phone photo is at most ~50 megapixels; anything larger is a decompression bomb, not a proof.
MAX_PIXELS = 60_000_000
URL_SALT = "waypoint.proof-url"


class ProofTooLarge(FieldValidationError):
    code = "proof_too_large"
    status_code = 413


class ProofTypeUnsupported(FieldValidationError):
    code = "proof_type_unsupported"
    status_code = 415


class ProofImageInvalid(FieldValidationError):
    code = "proof_image_invalid"


class StopNotOnYourRoute(ConflictError):
    # The same code the action sync answers for a stop moved to another driver's route.
    code = "stop_reassigned"


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _inspect(file: UploadedFile) -> tuple[str, int, int]:
    """The image's Pillow format and dimensions, or the refusal naming what is wrong with the file."""
    limit = settings.WAYPOINT_PROOF_MAX_BYTES
    if file.size > limit:
        message = f"The file is {_megabytes(file.size)}; at most {_megabytes(limit)} is accepted."
        raise ProofTooLarge({"file": [message]}, "The proof file is too large.")
    if file.size == 0:
        raise ProofImageInvalid({"file": ["The file is empty."]}, "The proof file is not a valid image.")
    file.seek(0)
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own pixel limit; MAX_PIXELS below is the limit that applies.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                image_format, (width, height) = image.format, image.size
                if image_format in ACCEPTED_FORMATS and width * height <= MAX_PIXELS:
                    _decode(image)
    except UnidentifiedImageError:
        message = "The file is not a JPEG, PNG or WebP image."
        raise ProofTypeUnsupported({"file": [message]}, "The proof must be a JPEG, PNG or WebP image.") from None
    except Image.DecompressionBombError:
        message = f"The image has too many pixels; at most {MAX_PIXELS // 1_000_000} megapixels."
        raise ProofImageInvalid({"file": [message]}, "The proof file is not a valid image.") from None
    except (OSError, SyntaxError, ValueError):
        # Pillow's own wording names decoder internals; the driver needs only to take the photo again.
        message = "The image is damaged or truncated."
        raise ProofImageInvalid({"file": [message]}, "The proof file is not a valid image.") from None
    if image_format not in ACCEPTED_FORMATS:
        message = f"{image_format} images are not accepted; send JPEG, PNG or WebP."
        raise ProofTypeUnsupported({"file": [message]}, "The proof must be a JPEG, PNG or WebP image.")
    if width * height > MAX_PIXELS:
        message = f"The image is {width}×{height} pixels; at most {MAX_PIXELS // 1_000_000} megapixels."
        raise ProofImageInvalid({"file": [message]}, "The proof file is not a valid image.")
    return image_format, width, height


def _decode(image: Image.Image) -> None:
    """Decode the whole image, so a truncated or corrupt file fails here and not in ops' browsers.

    `verify()` checks only PNG's checksums (it does nothing for JPEG); decoding does. A JPEG is
    decoded at an eighth of its size (`draft`), which still reads every byte of it.
    """
    image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
    image.load()


def _sha256(file: UploadedFile) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def _check_stop(*, actor: Actor, driver: Driver, stop: Stop) -> None:
    if stop.route.plan.organization_id != actor.organization.pk or driver.organization_id != actor.organization.pk:
        raise StopNotOnYourRoute("This stop is not on your route.")
    if stop.route.driver_id != driver.pk or stop.status == StopStatus.DROPPED:
        raise StopNotOnYourRoute("This stop is no longer on your route; it was moved to another driver.")


def proof_upload(
    *,
    actor: Actor,
    driver: Driver,
    stop: Stop,
    client_id: str,
    kind: str,
    captured_at: dt.datetime,
    file: UploadedFile,
) -> tuple[DeliveryProof, bool]:
    """Store a proof once per (driver, client_id); returns the proof and whether this call created it."""
    stored = DeliveryProof.objects.filter(driver=driver, client_id=client_id).first()
    if stored is not None:
        return stored, False
    _check_stop(actor=actor, driver=driver, stop=stop)
    if kind not in ProofKind.values:
        raise FieldValidationError({"kind": [f"Choose one of: {', '.join(ProofKind.values)}."]})
    image_format, width, height = _inspect(file)
    content_type, extension = ACCEPTED_FORMATS[image_format]
    proof = DeliveryProof(
        organization_id=actor.organization.pk,
        driver=driver,
        order_id=stop.order_id,
        stop=stop,
        client_id=client_id,
        kind=kind,
        content_type=content_type,
        size_bytes=file.size,
        width_px=width,
        height_px=height,
        sha256=_sha256(file),
        captured_at=captured_at,
    )
    # The name is Waypoint's (the phone's file name is never used); the storage adds the date folders.
    proof.file.save(f"{uuid.uuid4().hex}.{extension}", file, save=False)
    try:
        with transaction.atomic():
            proof.save()
            publish_on_commit(
                PROOF_ADDED,
                {"proof_id": proof.pk, "order_id": proof.order_id, "organization_id": proof.organization_id},
            )
    except IntegrityError:
        # The same upload raced this one (two syncs at once) and won: answer with its row.
        proof.file.delete(save=False)
        return DeliveryProof.objects.get(driver=driver, client_id=client_id), False
    return proof, True


# --- Reading and viewing ---------------------------------------------------------------------


def proof_stop_get(*, organization, stop_id: int) -> Stop | None:
    """A stop of the organization's plans (stops carry their organization on the plan)."""
    stops = Stop.objects.filter(route__plan__organization=organization).select_related("route__plan", "route__driver")
    return stops.filter(pk=stop_id).first()


def order_proof_list(*, organization, order: Order) -> QuerySet[DeliveryProof]:
    return DeliveryProof.objects.filter(organization=organization, order=order).order_by("uploaded_at", "id")


def proof_url(proof: DeliveryProof) -> str:
    """The URL that shows this proof for WAYPOINT_PROOF_URL_MAX_AGE_S seconds, then stops working."""
    if settings.WAYPOINT_PROOF_URLS_FROM_STORAGE:
        # S3's presigned URL (querystring_expire is the same lifetime, config/settings.py).
        return proof.file.storage.url(proof.file.name)
    token = signing.TimestampSigner(salt=URL_SALT).sign(str(proof.pk))
    return f"/proofs/{token}"


def proof_id_from_token(token: str) -> int | None:
    """The proof id a signed token names, or None when it was tampered with or has expired."""
    try:
        value = signing.TimestampSigner(salt=URL_SALT).unsign(token, max_age=settings.WAYPOINT_PROOF_URL_MAX_AGE_S)
    except signing.BadSignature:  # SignatureExpired is a BadSignature too
        return None
    return int(value) if value.isdigit() else None


def proof_by_id(*, proof_id: int) -> DeliveryProof | None:
    """Unscoped on purpose: only the holder of a signed URL gets here, and the signature is the gate."""
    return DeliveryProof.objects.filter(pk=proof_id).first()
