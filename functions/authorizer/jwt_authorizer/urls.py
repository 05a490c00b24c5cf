"""Which URLs the authorizer may talk to: https anywhere, plain http only on this machine."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

_LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback_host(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(url: str) -> str | None:
    """Why `url` may not be used to fetch keys or discovery, or None when it may."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return "is not a valid URL"
    if not host:
        return "has no host"
    if parts.username is not None or parts.password is not None:
        return "must not carry credentials"
    if parts.fragment:
        return "must not have a fragment"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and is_loopback_host(host):
        return None
    return "must use https (plain http is allowed only for loopback hosts)"
