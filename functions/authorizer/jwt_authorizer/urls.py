"""Which URLs the authorizer may fetch keys and discovery from.

Two kinds of URL, two rules:

- **Configured** (`ISSUER`, `JWKS_URI`): chosen by the operator, checked once at cold start
  (`url_problem`). https anywhere; plain http only to the hosts the authorizer is given (`PlainHttp`, data
  from whoever starts it): in Lambda, none; on the local stack, this machine (loopback) only; in a local
  container, also the machine running it.
- **Learned at run time** (the `jwks_uri` of a discovery document): chosen by whoever serves that document,
  checked before it is fetched (`learned_url_problem`). It must be https to a public destination: never
  plain http, never a loopback, link-local or private address, nor a name that stands for one. The one
  exception is a URL on the very origin (scheme, host and port) of a configured URL: that server is the
  one the operator named, and serves its own discovery document and keys (the local provider does).

Only literal addresses and reserved names are recognised: a DNS name is not resolved, so one that
resolves to a private address (or is made to, by DNS rebinding) is not caught here (docs/security.md).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

_LOOPBACK_NAMES = frozenset({"localhost"})
#: How a container reaches the machine running it: Docker Desktop (macOS, Windows) names it
#: host.docker.internal, and so does a container started with `--add-host host.docker.internal:<gateway>`.
_CONTAINER_HOST_NAMES = frozenset({"host.docker.internal"})
#: Names that never denote a public server: `localhost` and `.localhost` (RFC 6761), `.local` (multicast
#: DNS, RFC 6762), `.home.arpa` (RFC 8375), `.internal` (reserved by ICANN for private use in 2024; Docker's
#: host.docker.internal, EC2's ec2.internal names).
_INTERNAL_SUFFIXES = (".localhost", ".local", ".home.arpa", ".internal")
_DEFAULT_PORTS = {"http": 80, "https": 443}


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


@dataclass(frozen=True)
class PlainHttp:
    """The hosts plain http may reach: data that whoever starts the authorizer gives it, never a mode."""

    allows: Callable[[str], bool]
    #: Completes "plain http is allowed only for ...", in the message that refuses a URL.
    description: str


#: Outside Lambda (the local stack, `make explain`, tests): plain http only on this machine.
LOOPBACK_ONLY = PlainHttp(is_loopback_host, "loopback hosts")
#: In Lambda: none. A loopback URL there names the function's own sandbox (the Runtime API's 127.0.0.1:9001).
HTTPS_ONLY = PlainHttp(lambda host: False, "local runs, never in Lambda")


def url_problem(url: str, plain_http: PlainHttp = LOOPBACK_ONLY) -> str | None:
    """Why a configured URL (`ISSUER`, `JWKS_URI`) may not be used, or None when it may."""
    parts, problem = _parts(url)
    if parts is None:
        return problem
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and plain_http.allows(str(parts.hostname)):
        return None
    return f"must use https (plain http is allowed only for {plain_http.description})"


def learned_url_problem(url: str, configured_origins: frozenset[str]) -> str | None:
    """Why a URL learned at run time may not be fetched, or None when it may.

    `configured_origins` are the origins of the configured URLs it may share (see `origin_of`).
    """
    parts, problem = _parts(url)
    if parts is None:
        return problem
    if _origin(parts) in configured_origins:
        return None
    if parts.scheme != "https":
        return (
            "must use https: plain http is allowed only for the configured ISSUER and JWKS_URI, and the"
            " host and port they name"
        )
    if is_internal_host(str(parts.hostname)):
        return "must not name a loopback, link-local or private address, nor a name reserved for one"
    return None


def url_form_problem(url: str) -> str | None:
    """Why `url` is never fetched, whatever the configuration, or None: the last check before a request.
    Whether a URL may be fetched is for `url_problem` (configured URLs) and `learned_url_problem` (URLs
    learned at run time) to say; this only refuses what neither could allow."""
    parts, problem = _parts(url)
    if parts is None:
        return problem
    host = str(parts.hostname)
    if parts.scheme == "https" or (
        parts.scheme == "http" and (is_loopback_host(host) or is_container_host(host))
    ):
        return None
    return "must use https"


def origin_of(url: str) -> str | None:
    """scheme://host:port of `url`, as `learned_url_problem` compares them; None for a URL it refuses."""
    parts, _ = _parts(url)
    return None if parts is None else _origin(parts)


def origins_of(urls: Iterable[str | None]) -> frozenset[str]:
    return frozenset(filter(None, (origin_of(url) for url in urls if url)))


def is_internal_host(host: str) -> bool:
    """True for a literal address that is not a public unicast one (loopback, private, link-local,
    shared, reserved, multicast, unspecified) or a name reserved for such places."""
    name = host.lower().rstrip(".")
    if name in _LOOPBACK_NAMES or name in _CONTAINER_HOST_NAMES or name.endswith(_INTERNAL_SUFFIXES):
        return True
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(name)
    except ValueError:
        try:
            # What the resolver reads as an IPv4 address too: 127.1, 2130706433, 0x7f.0.0.1.
            address = ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return False  # a DNS name: not resolved here
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def _parts(url: str) -> tuple[SplitResult | None, str]:
    """The URL's parts, or None and why it is not a URL that can be fetched at all."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return None, "is not a valid URL"
    if not host:
        return None, "has no host"
    if parts.username is not None or parts.password is not None:
        return None, "must not carry credentials"
    if parts.fragment:
        return None, "must not have a fragment"
    return parts, ""


def _origin(parts: SplitResult) -> str:
    host = str(parts.hostname).rstrip(".")
    return f"{parts.scheme}://{host}:{parts.port or _DEFAULT_PORTS.get(parts.scheme)}"
