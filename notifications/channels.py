"""Sending one message: email through Django's email backends, SMS through a provider.

The SMS provider is chosen by WAYPOINT_SMS_PROVIDER: `console` (the default: logs the message)
or `http` (a generic HTTP gateway configured by URL, credentials and a body template). A provider
raises ProviderError when the message did not go out; the caller retries with backoff.
"""

import base64
import email.policy
import json
import logging
import string
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import make_msgid

logger = logging.getLogger(__name__)
# A gateway's answer is read up to this size: a broken one cannot fill the worker's memory.
MAX_RESPONSE_BYTES = 64 * 1024


class ProviderError(Exception):
    pass


@dataclass(frozen=True)
class Sent:
    provider_id: str = ""
    cost: Decimal | None = None


class _Email(EmailMultiAlternatives):
    """Headers on one line up to RFC 5322's 998 characters.

    Under Python's default policy (78 characters) the List-Unsubscribe URL, one long word, came out
    as RFC 2047 encoded words, which mail clients do not read as an address, so their unsubscribe
    button never showed. 7-bit transfer encoding keeps non-ASCII bodies quoted-printable, as before.
    """

    def message(self, *, policy=email.policy.default):
        return super().message(policy=policy.clone(max_line_length=998, cte_type="7bit"))


def email_send(*, recipient: str, subject: str, body: str, body_html: str, headers: dict | None = None) -> Sent:
    # The Message-ID is made here so the log can name the email a bounce or a complaint refers to.
    headers = {"Message-ID": make_msgid(domain=settings.WAYPOINT_EMAIL_DOMAIN), **(headers or {})}
    email = _Email(subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=[recipient], headers=headers)
    if body_html:
        email.attach_alternative(body_html, "text/html")
    try:
        email.send()
    except Exception as error:  # SMTP and network errors alike: the message did not go out
        raise ProviderError(f"email: {error!r}") from error
    return Sent(provider_id=headers["Message-ID"])


class ConsoleSmsProvider:
    """Logs the SMS: the default, for the demo and development."""

    def send(self, *, to: str, body: str) -> Sent:
        logger.info("SMS to %s: %s", to, body)
        return Sent(provider_id=f"console-{uuid.uuid4().hex[:12]}")


class HttpSmsProvider:
    """A generic HTTP gateway: POSTs the body template with $to, $body and $sender filled in.

    The template is JSON by default; values are JSON-escaped when the content type is JSON, so a
    message with quotes cannot break the request. The provider's message id and cost are read from
    the answer's JSON fields named by WAYPOINT_SMS_HTTP_ID_FIELD and WAYPOINT_SMS_HTTP_COST_FIELD
    when it has them (dotted paths reach into nested objects).
    """

    def send(self, *, to: str, body: str) -> Sent:
        if not settings.WAYPOINT_SMS_HTTP_URL.startswith(("http://", "https://")):
            raise ProviderError("WAYPOINT_SMS_HTTP_URL must be set to the gateway's http(s) address")
        content_type = settings.WAYPOINT_SMS_HTTP_CONTENT_TYPE
        values = {"to": to, "body": body, "sender": settings.WAYPOINT_SMS_SENDER}
        if "json" in content_type:
            values = {key: json.dumps(value)[1:-1] for key, value in values.items()}
        payload = string.Template(settings.WAYPOINT_SMS_HTTP_BODY).safe_substitute(values).encode()
        request = urllib.request.Request(
            settings.WAYPOINT_SMS_HTTP_URL, data=payload, method="POST", headers=self._headers(content_type)
        )
        try:
            with urllib.request.urlopen(request, timeout=settings.WAYPOINT_SMS_HTTP_TIMEOUT_S) as response:
                answer = response.read(MAX_RESPONSE_BYTES)
        except urllib.error.HTTPError as error:
            raise ProviderError(f"sms gateway answered {error.code}: {error.read(500)!r}") from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise ProviderError(f"sms gateway unreachable: {error!r}") from error
        return self._sent(answer)

    def _headers(self, content_type: str) -> dict:
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        if settings.WAYPOINT_SMS_HTTP_TOKEN:
            headers["Authorization"] = f"Bearer {settings.WAYPOINT_SMS_HTTP_TOKEN}"
        elif settings.WAYPOINT_SMS_HTTP_USERNAME:
            pair = f"{settings.WAYPOINT_SMS_HTTP_USERNAME}:{settings.WAYPOINT_SMS_HTTP_PASSWORD}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        return headers

    def _sent(self, answer: bytes) -> Sent:
        try:
            document = json.loads(answer or b"null")
        except ValueError:
            return Sent()  # accepted (2xx) without a JSON answer: sent, nothing reported
        provider_id = _field(document, settings.WAYPOINT_SMS_HTTP_ID_FIELD)
        cost = _field(document, settings.WAYPOINT_SMS_HTTP_COST_FIELD)
        try:
            parsed_cost = Decimal(str(cost)) if cost is not None else None
        except InvalidOperation:
            parsed_cost = None
        return Sent(provider_id=str(provider_id or "")[:120], cost=parsed_cost)


def _field(document, path: str):
    for part in path.split(".") if path else ():
        if not isinstance(document, dict):
            return None
        document = document.get(part)
    return document if path else None


PROVIDERS = {"console": ConsoleSmsProvider, "http": HttpSmsProvider}


def sms_provider():
    return PROVIDERS[settings.WAYPOINT_SMS_PROVIDER]()
