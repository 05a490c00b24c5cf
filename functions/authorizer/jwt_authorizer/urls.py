"""Which URLs the authorizer may talk to: https anywhere, plain http only on this machine."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

_LOOPBACK_NAMES = frozenset({"localhost"})
#: How a container reaches the machine running it: Docker Desktop (macOS, Windows) names it
#: host.docker.internal, and so does `sam local --add-host host.docker.internal:<bridge gateway>` on Linux.
_CONTAINER_HOST_NAMES = frozenset({"host.docker.internal"})


def is_loopback_host(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_container_host(host: str) -> bool:
    """The developer's machine as a container sees it: host.docker.internal, or a private-range address
    (Docker's bridge gateway, 172.17.0.1 by default). Link-local addresses, cloud metadata services among
    them, are not."""
    if host.lower() in _CONTAINER_HOST_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private and not (
        address.is_link_local or address.is_unspecified or address.is_multicast or address.is_reserved
    )


def url_problem(url: str, sam_local: bool = False) -> str | None:
    """Why `url` may not be used to fetch keys or discovery, or None when it may.

    `sam_local` (the SAM CLI runs the function: AWS_SAM_LOCAL=true) also allows plain http to the machine
    running the container, where `make sam-local` serves the local provider; the function's own
    127.0.0.1 is the container, not that machine.
    """
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
    if parts.scheme == "http" and sam_local and is_container_host(host):
        return None
    if sam_local:
        return (
            "must use https (plain http is allowed only for loopback hosts and, under the SAM CLI, for"
            " host.docker.internal and private-range addresses)"
        )
    return "must use https (plain http is allowed only for loopback hosts)"
