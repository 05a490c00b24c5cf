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
_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


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


def resource_url(event: Mapping[str, Any]) -> str:
    """The API's URL as the client called it: scheme, host, and the path before the route's own path.

    API Gateway's requestContext.path is the path the client sent (`/dev/.well-known/...` on the
    execute-api domain, `/v1/...` under a custom domain's base path mapping, the bare route at a domain's
    root), and resourcePath is the route's own path: what comes before it is the stage or base path.
    """
    context = event.get("requestContext")
    if not isinstance(context, Mapping):
        raise UnknownResourceUrl("the event has no requestContext")
    host = context.get("domainName")
    if not isinstance(host, str) or not _HOST.fullmatch(host):
        raise UnknownResourceUrl("requestContext.domainName is missing or not a host name")
    path, route = context.get("path"), context.get("resourcePath")
    if not isinstance(path, str) or not isinstance(route, str):
        raise UnknownResourceUrl("requestContext.path or resourcePath is missing")
    path, route = path.rstrip("/"), route.rstrip("/")
    if not path.endswith(route):
        raise UnknownResourceUrl("requestContext.path does not end with the route's resourcePath")
    base = path[: len(path) - len(route)]
    return f"{_scheme(event.get('headers'))}://{host}{base}"


def _scheme(headers: object) -> str:
    # API Gateway serves https only and says so in X-Forwarded-Proto; the local gateways serve http.
    if isinstance(headers, Mapping):
        for name, value in headers.items():
            if isinstance(name, str) and name.lower() == "x-forwarded-proto" and value in ("http", "https"):
                return str(value)
    return "https"
