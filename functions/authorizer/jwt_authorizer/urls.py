"""Which URLs the authorizer may talk to: https anywhere, plain http only to the hosts it is given
(deployed: this machine only)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

_LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback_host(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class PlainHttp:
    """The hosts plain http may reach: data that whoever starts the authorizer gives it, never a mode."""

    allows: Callable[[str], bool]
    #: Completes "plain http is allowed only for ...", in the message that refuses a URL.
    description: str


#: Where the authorizer is deployed: plain http only on this machine.
LOOPBACK_ONLY = PlainHttp(is_loopback_host, "loopback hosts")


def url_problem(url: str, plain_http: PlainHttp = LOOPBACK_ONLY) -> str | None:
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
    if parts.scheme == "http" and plain_http.allows(host):
        return None
    return f"must use https (plain http is allowed only for {plain_http.description})"
