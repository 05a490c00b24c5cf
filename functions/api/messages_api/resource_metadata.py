"""OAuth 2.0 Protected Resource Metadata (RFC 9728): what a client needs to find a token for this API.

The document names the API (`resource`), the issuers whose tokens it accepts (`authorization_servers`,
the authorizer's `ISSUER`), every scope some route requires (`scopes_supported`, from `ROUTE_SCOPES`)
and how to present the token (`bearer_methods_supported`: the Authorization header only).

`resource` is the URL the client called, taken from what API Gateway itself puts in the proxy event, so
it is right wherever the API is served: `https://<api>.execute-api.<region>.amazonaws.com/<stage>`, a
custom domain (`https://api.example.com`, or `https://api.example.com/v1` under a base path mapping),
`sam local start-api` and the local gateway (`http://127.0.0.1:3000`, no stage). The client compares
it with the URL it called (RFC 9728 section 3.3), so a guess would make it refuse the document.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from route_table import RouteTable

#: Where the document lives, relative to the API's URL (docs/discovery.md explains the choice).
METADATA_PATH = "/.well-known/oauth-protected-resource"
#: A host as API Gateway reports it in requestContext.domainName (a port only locally).
_HOST = re.compile(r"[A-Za-z0-9._-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
#: What separates the segments of a path as a client may spell it: a slash, or a percent-encoded one.
_SEPARATOR = re.compile(r"/|%2[Ff]")


class MetadataConfigurationError(ValueError):
    """A variable the metadata is built from is missing or malformed; the message names it."""


@dataclass(frozen=True)
class ResourceMetadataSettings:
    issuers: tuple[str, ...]
    scopes: frozenset[str]
    documentation: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ResourceMetadataSettings:
        listed = (item.strip() for item in env.get("ISSUER", "").split(","))
        issuers = tuple(dict.fromkeys(item for item in listed if item))
        if not issuers:
            raise MetadataConfigurationError("ISSUER is required: the issuers whose tokens the API accepts")
        try:
            scopes = RouteTable.parse(env.get("ROUTE_SCOPES", "")).scopes
        except ValueError as error:  # RouteTableError names ROUTE_SCOPES
            raise MetadataConfigurationError(str(error)) from None
        documentation = env.get("RESOURCE_DOCUMENTATION", "").strip() or None
        return cls(issuers=issuers, scopes=scopes, documentation=documentation)

    def document(self, resource: str) -> dict[str, Any]:
        document: dict[str, Any] = {
            "resource": resource,
            "authorization_servers": list(self.issuers),
            "scopes_supported": sorted(self.scopes),
            "bearer_methods_supported": ["header"],
        }
        if self.documentation is not None:
            document["resource_documentation"] = self.documentation
        return document


class UnknownResourceUrl(ValueError):
    """The event does not say where the API is served (not an API Gateway proxy event)."""


class UnknownHost(ValueError):
    """requestContext.domainName is not a host name: the local gateways report the client's Host header."""


def resource_url(event: Mapping[str, Any]) -> str:
    """The API's URL as the client called it: scheme, host, and the path before the route's own path.

    API Gateway's requestContext.path is the path the client sent (`/dev/.well-known/...` on the
    execute-api domain, `/v1/...` under a custom domain's base path mapping, the bare route at a domain's
    root), spelled as sent: doubled slashes, a trailing slash and percent-encodings stay. The event's
    `path` is the route's own part of it. API Gateway routed the request here, so the last segments of
    what the client sent are the route's, in whatever spelling: the segments before them are the stage or
    the base path. Any path a gateway reports gives an answer; only an event that is no proxy event
    raises UnknownResourceUrl, and a host that is not a host name (which only a local gateway passes on
    from the client) UnknownHost.
    """
    context = event.get("requestContext")
    if not isinstance(context, Mapping):
        raise UnknownResourceUrl("the event has no requestContext")
    if event.get("version") == "2.0":
        # An HTTP API's payload 2.0: requestContext.http.path as sent (a named stage first), and the
        # route's own path in its route key ("GET /.well-known/oauth-protected-resource").
        http = context.get("http")
        sent = http.get("path") if isinstance(http, Mapping) else None
        route_key = event.get("routeKey")
        route = route_key.partition(" ")[2] if isinstance(route_key, str) else None
    else:
        sent, route = context.get("path"), event.get("path")
        route = route if isinstance(route, str) else context.get("resourcePath")
    if not isinstance(sent, str) or not isinstance(route, str):
        raise UnknownResourceUrl("requestContext.path or the event's path is missing")
    host = context.get("domainName")
    if not isinstance(host, str):
        raise UnknownResourceUrl("requestContext.domainName is missing")
    if not _HOST.fullmatch(host):
        raise UnknownHost("requestContext.domainName is not a host name")
    sent_segments, route_segments = _segments(sent), _segments(route)
    base = sent_segments[: max(len(sent_segments) - len(route_segments), 0)]
    return f"{_scheme(event.get('headers'))}://{host}{''.join(f'/{segment}' for segment in base)}"


def _segments(path: str) -> list[str]:
    return [segment for segment in _SEPARATOR.split(path) if segment]


def _scheme(headers: object) -> str:
    # API Gateway serves https only and says so in X-Forwarded-Proto; the local gateways serve http.
    if isinstance(headers, Mapping):
        for name, value in headers.items():
            if isinstance(name, str) and name.lower() == "x-forwarded-proto" and value in ("http", "https"):
                return str(value)
    return "https"
