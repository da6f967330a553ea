"""Where a webhook may go: http(s) URLs whose host resolves only to public addresses.

A target's URL is checked when it is saved, and its addresses again when each attempt
connects (the connection refuses a peer address these rules refuse), so a host name
that later resolves to an internal address (DNS rebinding) is still refused. Private,
loopback, link-local, multicast and reserved addresses are allowed only with
MODELGATE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES (a receiver on the same network, tests).
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class AddressRefused(Exception):
    """The URL or address may not receive webhooks; the message says why."""


def address_kind(address: str) -> str:
    """What kind of refused address `address` (an IP) is, e.g. "a loopback address", or
    "" when webhooks may go to it."""
    if settings.MODELGATE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return ""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for kind in ("unspecified", "loopback", "link_local", "multicast", "reserved", "private"):
        if getattr(ip, f"is_{kind}"):
            article = "an" if kind == "unspecified" else "a"
            return f"{article} {kind.replace('_', '-')} address"
    if not ip.is_global:
        return "not a public address"
    return ""


def address_problem(address: str) -> str:
    """Why a webhook may not be sent to `address` (an IP), or "" when it may."""
    kind = address_kind(address)
    return f"{address} is {kind}" if kind else ""


def resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressRefused(f"The host name {host} does not resolve ({exc}).") from None
    return sorted({info[4][0] for info in infos})


def url_check(url: str) -> None:
    """Raise AddressRefused unless `url` is an http(s) URL without credentials whose host
    resolves only to addresses webhooks may go to."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise AddressRefused(f"This is not a valid URL ({exc}).") from None
    if parts.scheme not in ("http", "https"):
        raise AddressRefused("Only http:// and https:// URLs can receive webhooks.")
    if not parts.hostname:
        raise AddressRefused("The URL has no host name.")
    if parts.username or parts.password:
        raise AddressRefused(
            "Put no user name or password in the URL: receivers check the signature instead."
        )
    for address in resolve(parts.hostname, port):
        kind = address_kind(address)
        if kind:
            where = (
                f"{address} is {kind}"
                if parts.hostname.strip("[]") == address
                else f"{parts.hostname} resolves to {address}, {kind}"
            )
            raise AddressRefused(
                f"{where}: webhooks go only to public addresses (an operator can allow "
                "private ones with MODELGATE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES)."
            )
