"""Standard Webhooks signing (https://www.standardwebhooks.com), through its reference library.

`webhook-signature` carries one `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` per secret in
use, separated by spaces: during a rotation's overlap both the new and the previous secret sign,
so a receiver holding either verifies.
"""

import base64
import datetime as dt
import secrets

from standardwebhooks import Webhook

from notifications.models.webhooks import SECRET_PREFIX

SECRET_BYTES = 32


def secret_new() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(*, event_id: str, at: dt.datetime, body: str, secrets_in_use: list[str]) -> dict[str, str]:
    # The library formats the timestamp with `replace(tzinfo=utc)`: it must be given UTC itself.
    moment = at.astimezone(dt.UTC)
    signatures = [Webhook(secret).sign(msg_id=event_id, timestamp=moment, data=body) for secret in secrets_in_use]
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
