"""An OAuth client that knows only an API's URL and its own credentials, as RFC 9728 and MCP clients go:
401 → resource_metadata → the issuer's RFC 8414 metadata → a token → the protected route."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import requests

_AUTH_PARAM = re.compile(r'([A-Za-z0-9_-]+)="((?:[^"\\]|\\.)*)"')


def challenge_parameters(header: str) -> dict[str, str]:
    """The auth-params of a `Bearer` challenge (RFC 9110 section 11.6.1), quoted-string values."""
    scheme, _, parameters = header.partition(" ")
    assert scheme == "Bearer"
    return {name: re.sub(r"\\(.)", r"\1", value) for name, value in _AUTH_PARAM.findall(parameters)}


@dataclass(frozen=True)
class Discovered:
    metadata_url: str
    resource: dict[str, Any]  # the protected resource metadata
    server: dict[str, Any]  # the issuer's authorization server metadata
    token: str


def discover_token(api_url: str, protected_path: str, client: tuple[str, str]) -> Discovered:
    """Follow the API's 401 to a token for every scope it lists, checking each step as a client must."""
    session = requests.Session()

    # 1. The protected route without a token: 401, and where the resource's metadata is.
    unauthorized = session.get(f"{api_url}{protected_path}", timeout=10)
    assert unauthorized.status_code == 401
    challenge = challenge_parameters(unauthorized.headers["WWW-Authenticate"])
    assert "error" not in challenge  # RFC 6750 section 3.1: the request carried no token
    metadata_url = challenge["resource_metadata"]

    # 2. The metadata: its resource must be the API the client called (RFC 9728 section 3.3).
    metadata = session.get(metadata_url, timeout=10)
    assert metadata.status_code == 200
    assert metadata.headers["Content-Type"] == "application/json"
    resource: dict[str, Any] = metadata.json()
    assert resource["resource"] == api_url
    assert resource["bearer_methods_supported"] == ["header"]
    [issuer] = resource["authorization_servers"]

    # 3. The issuer's authorization server metadata (RFC 8414): its issuer must be the one named.
    server: dict[str, Any] = session.get(
        f"{issuer}/.well-known/oauth-authorization-server", timeout=10
    ).json()
    assert server["issuer"] == issuer
    assert "client_credentials" in server["grant_types_supported"]

    # 4. A token for every scope the API lists, for this resource (RFC 8707, as MCP clients ask).
    granted = session.post(
        server["token_endpoint"],
        data={
            "grant_type": "client_credentials",
            "scope": " ".join(resource["scopes_supported"]),
            "resource": resource["resource"],
        },
        auth=client,
        timeout=10,
    )
    assert granted.status_code == 200, granted.text
    return Discovered(metadata_url, resource, server, str(granted.json()["access_token"]))
