"""Idempotency-Key handling for POSTs: the same key and body replays the first response.

A first request inserts a pending record (committed at once, so a concurrent duplicate sees it);
when it finishes its response is stored. The same key with another body or path answers 422, a
duplicate that arrives while the first is still running answers 409, and a 5xx or a 429 frees the
key so the client may retry. Records expire after WAYPOINT_IDEMPOTENCY_TTL_HOURS.
"""

import datetime as dt
import hashlib
import json

from django.conf import settings
from django.db import IntegrityError, transaction

from common import clock
from common.errors import ConflictError, UnprocessableError
from common.models import IdempotencyRecord

MAX_KEY_LENGTH = 255


class IdempotentReplay(Exception):  # noqa: N818  (control flow, not an error)
    def __init__(self, record: IdempotencyRecord):
        super().__init__(record.key)
        self.record = record


def request_fingerprint(*, content_type: str, body: bytes, files: dict | None = None) -> str:
    """Hash what the request means, not its bytes: JSON key order and multipart boundaries vary."""
    digest = hashlib.sha256()
    if content_type.startswith("application/json"):
        try:
            digest.update(json.dumps(json.loads(body or b"null"), sort_keys=True).encode())
            return digest.hexdigest()
        except ValueError:
            pass
    digest.update(body)
    for name in sorted(files or {}):
        upload = files[name]
        upload.seek(0)
        digest.update(b"\0" + name.encode() + b"\0" + upload.read())
        upload.seek(0)
    return digest.hexdigest()


def _expiry_cutoff() -> dt.datetime:
    return clock.now() - dt.timedelta(hours=settings.WAYPOINT_IDEMPOTENCY_TTL_HOURS)


def idempotency_begin(*, organization, key: str, method: str, path: str, fingerprint: str):
    """Claim the key, or raise IdempotentReplay / a 409 / a 422 for a key already used."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise UnprocessableError(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.",
            code="invalid_idempotency_key",
        )
    IdempotencyRecord.objects.filter(organization=organization, key=key, created_at__lt=_expiry_cutoff()).delete()
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                organization=organization,
                key=key,
                method=method,
                path=path,
                request_hash=fingerprint,
            )
    except IntegrityError:
        existing = IdempotencyRecord.objects.get(organization=organization, key=key)
    if existing.request_hash != fingerprint or existing.path != path or existing.method != method:
        raise UnprocessableError(
            "This Idempotency-Key was already used with a different request body or endpoint.",
            code="idempotency_key_reused",
        )
    if existing.response_status is None:
        raise ConflictError(
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            code="idempotency_key_in_progress",
        )
    raise IdempotentReplay(existing)


def idempotency_finish(*, record: IdempotencyRecord, status: int, body, headers: dict) -> None:
    # A 5xx or a 429 is about the moment, not the request: free the key so the retry is answered anew.
    if status >= 500 or status == 429:
        record.delete()
        return
    record.response_status = status
    record.response_body = body
    record.response_headers = headers
    record.save(update_fields=["response_status", "response_body", "response_headers"])


def idempotency_purge() -> int:
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=_expiry_cutoff()).delete()
    return deleted
