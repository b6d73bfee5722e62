"""Which receivers Waypoint may call: never its own network in production.

A merchant could otherwise point an endpoint at 127.0.0.1, the cloud metadata address or an
internal service and read the answers back from the delivery log. In production
(WAYPOINT_WEBHOOKS_ALLOW_PRIVATE off) every address the host resolves to must be public; the check
runs at registration and again before each send, since DNS can change in between.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

from common.errors import FieldValidationError


class ReceiverRefused(Exception):
    """The receiver's address is not one Waypoint may call."""


def refused_reason(address: str) -> str | None:
    """Why Waypoint may not call `address` (an IP), or None; always None when private ones are allowed."""
    return None if settings.WAYPOINT_WEBHOOKS_ALLOW_PRIVATE else _refused_reason(address)


def _refused_reason(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for label, refused in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("private", ip.is_private),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("unspecified", ip.is_unspecified),
    ):
        if refused:
            return f"{address} is a {label} address"
    return None


def receiver_check(url: str) -> None:
    """Raise ReceiverRefused unless `url` is http(s) and (in production) resolves only to public addresses."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ReceiverRefused("Use an http:// or https:// URL with a host name.")
    if settings.WAYPOINT_WEBHOOKS_ALLOW_PRIVATE:
        return
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        resolved = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError) as error:
        raise ReceiverRefused(f"The host {parts.hostname} does not resolve ({error}).") from error
    for *_, sockaddr in resolved:
        if reason := _refused_reason(sockaddr[0]):
            raise ReceiverRefused(f"Webhooks cannot be sent to private networks: {parts.hostname}: {reason}.")


def receiver_validate(url: str) -> None:
    """receiver_check, as a field error on `url` (registration)."""
    try:
        receiver_check(url)
    except ReceiverRefused as error:
        raise FieldValidationError({"url": [str(error)]}) from error
