"""API Gateway's REQUEST authorizer event (REST API, payload 1.0): what the DPoP and certificate checks read.

A TOKEN event carries the Authorization value and the method ARN, nothing else. A REQUEST event carries
the call itself, and from it this module reads, without trusting anything but API Gateway's own fields:

- the Authorization value and every `DPoP` header (RFC 9449 section 4.3 asks for exactly one), as the
  pipeline's `AccessRequest` carries them;
- the method (`httpMethod`) and the URL the client called, rebuilt for `htu`;
- the SHA-256 thumbprint of the client certificate, when the API uses mutual TLS (RFC 8705 section 3.1).

The URL: API Gateway's `requestContext.path` is the path as the client sent it, stage or base path
included: `/prod/messages` on `https://{api}.execute-api.{region}.amazonaws.com/prod/messages`,
`/v1/messages` on a custom domain whose base path mapping `v1` names the stage, `/messages` on one mapped
at its root (the top-level `path` drops the stage on the execute-api domain, so it cannot be used).
`requestContext.domainName` is the host the client called (the `Host` header when an event lacks it);
`X-Forwarded-Proto` and `X-Forwarded-Port` are API Gateway's own (https and 443 for every REST API;
the local gateway says http and its port). docs/dpop.md shows both URLs worked through, with sources.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any, NoReturn

from .errors import Reason, TokenRejected
from .events import EventAdapter
from .method_arn import MethodArn
from .request import NO_HEADERS, AccessRequest, Decision


class RequestEvents:
    """API Gateway's REQUEST authorizer event read into the pipeline's request; the answers are those of
    the edge's own adapter (`inner`, whatever the edge answers TOKEN events with), since both event types
    take the same IAM policy and the same `Unauthorized` (events.EventAdapter)."""

    def __init__(self, inner: EventAdapter) -> None:
        self._inner = inner

    def request(self, event: object) -> AccessRequest:
        return read_request_event(event)

    def route_of(self, event: object) -> str | None:
        return self._inner.route_of(event)  # both events carry the methodArn

    def allowed(self, decision: Decision) -> dict[str, Any]:
        return self._inner.allowed(decision)

    def refused(self, rejection: TokenRejected) -> dict[str, Any]:
        return self._inner.refused(rejection)

    def unavailable(self) -> NoReturn:
        self._inner.unavailable()


def is_request_event(event: object) -> bool:
    return isinstance(event, dict) and event.get("type") == "REQUEST"


def read_request_event(event: object) -> AccessRequest:
    """The call a REQUEST event asks about; TokenRejected(MALFORMED_EVENT) when it is not one."""
    if not isinstance(event, dict) or not is_request_event(event):
        raise TokenRejected(Reason.MALFORMED_EVENT, "not a REQUEST authorizer event")
    method_arn = MethodArn.parse(event.get("methodArn"))
    headers = _header_values(event)
    authorizations = headers.get("authorization", ())
    if len(authorizations) > 1:
        raise TokenRejected(Reason.MALFORMED_HEADER, "more than one Authorization header")
    context = event.get("requestContext")
    if not isinstance(context, dict):
        raise TokenRejected(Reason.MALFORMED_EVENT, "the event has no requestContext")
    method = event.get("httpMethod", context.get("httpMethod"))
    if not isinstance(method, str) or method != method_arn.method:
        raise TokenRejected(Reason.MALFORMED_EVENT, "httpMethod is missing or disagrees with the methodArn")
    proofs = headers.get("dpop", ())
    return AccessRequest(
        authorizations[0] if authorizations else None,
        method_arn,
        # Several DPoP headers joined as RFC 9110 joins a repeated field; a proof has no comma.
        {"dpop": ",".join(proofs)} if proofs else NO_HEADERS,
        _called_url(context, headers),
        _certificate_thumbprint(context),
    )


#: The headers read here, by lower-case name.
_READ = frozenset({"authorization", "dpop", "host", "x-forwarded-proto", "x-forwarded-port"})


def _header_values(event: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """The values of the headers read here, by lower-case name. REST events carry `multiValueHeaders`
    (every value) beside `headers` (the last one); the former is read when present, so a repeated header
    is seen as such."""
    found: dict[str, tuple[str, ...]] = {}
    multi = event.get("multiValueHeaders")
    if isinstance(multi, dict):
        for name, values in multi.items():
            if isinstance(name, str) and isinstance(values, list):
                lower = name.lower()
                if lower in _READ:
                    found[lower] = found.get(lower, ()) + tuple([v for v in values if isinstance(v, str)])
    single = event.get("headers")
    if isinstance(single, dict):
        for name, value in single.items():
            if isinstance(name, str) and isinstance(value, str):
                lower = name.lower()
                if lower in _READ and lower not in found:
                    found[lower] = (value,)
    return found


def _one(headers: Mapping[str, tuple[str, ...]], name: str) -> str | None:
    values = headers.get(name, ())
    return values[-1] if values else None


def _called_url(context: dict[str, Any], headers: Mapping[str, tuple[str, ...]]) -> str:
    host = context.get("domainName") or _one(headers, "host")
    path = context.get("path")
    if not isinstance(host, str) or not host or not isinstance(path, str) or not path.startswith("/"):
        raise TokenRejected(Reason.MALFORMED_EVENT, "the event names no domainName (Host) and path")
    scheme = (_one(headers, "x-forwarded-proto") or "https").lower()
    if scheme not in ("https", "http"):
        raise TokenRejected(Reason.MALFORMED_EVENT, "X-Forwarded-Proto is neither https nor http")
    port = _one(headers, "x-forwarded-port")
    hostname = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    default = "443" if scheme == "https" else "80"
    authority = hostname if port in (None, default) else f"{hostname}:{port}"
    return f"{scheme}://{authority}{path}"


def _certificate_thumbprint(context: dict[str, Any]) -> str | None:
    identity = context.get("identity")
    certificate = identity.get("clientCert") if isinstance(identity, dict) else None
    if not isinstance(certificate, dict):
        return None
    pem = certificate.get("clientCertPem")
    if not isinstance(pem, str):
        raise TokenRejected(Reason.MALFORMED_EVENT, "clientCert has no clientCertPem")
    return certificate_thumbprint(pem)


def certificate_thumbprint(pem: str) -> str:
    """RFC 8705 section 3.1 `x5t#S256`: base64url(SHA-256) of the certificate's DER encoding."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    try:
        certificate = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise TokenRejected(Reason.MALFORMED_EVENT, "clientCertPem is not a PEM certificate") from None
    digest = hashlib.sha256(certificate.public_bytes(Encoding.DER)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
