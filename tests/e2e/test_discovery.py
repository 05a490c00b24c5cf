"""A client that knows only the API's URL finds its way to a token (RFC 9728, RFC 8414), as OAuth and MCP
clients do: the 401 names the resource metadata, the metadata names the issuer, the issuer's metadata
names the token endpoint. template.yaml's real handlers behind the local gateway, on free ports."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests

from local.stack import LocalStack, StackOptions
from tests.support.discovery import challenge_parameters, discover_token

# The default client of local/provider.json: credentials a client is registered with, not discovered.
CLIENT = ("dev-client", "dev-secret")


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    options = StackOptions(
        api_port=0, provider_port=0, key_file=tmp_path_factory.mktemp("keys") / "provider-keys.json"
    )
    stack = LocalStack(options, log=lambda line: None)
    stack.start()
    try:
        yield stack.api_url
    finally:
        stack.stop()


def test_from_the_api_url_alone_a_client_finds_the_issuer_gets_a_token_and_calls_a_protected_route(
    api_url: str,
) -> None:
    discovered = discover_token(api_url, "/messages", CLIENT)

    headers = {"Authorization": f"Bearer {discovered.token}"}
    assert requests.get(f"{api_url}/messages", headers=headers, timeout=10).status_code == 200
    created = requests.post(f"{api_url}/messages", json={"text": "found you"}, headers=headers, timeout=10)
    assert created.status_code == 201


def test_the_metadata_document_is_the_rfc_9728_document_for_this_api(api_url: str) -> None:
    response = requests.get(f"{api_url}/.well-known/oauth-protected-resource", timeout=10)

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    document = response.json()
    issuers = document.pop("authorization_servers")
    assert document == {
        "resource": api_url,
        "scopes_supported": ["messages:read", "messages:write"],
        "bearer_methods_supported": ["header"],
    }
    assert len(issuers) == 1
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", issuers[0])


def test_a_token_without_the_routes_scope_gets_403_naming_the_metadata_too(api_url: str) -> None:
    metadata_url = f"{api_url}/.well-known/oauth-protected-resource"
    [issuer] = requests.get(metadata_url, timeout=10).json()["authorization_servers"]
    token = requests.post(
        f"{issuer}/oauth2/token",
        data={"grant_type": "client_credentials", "scope": "messages:read"},
        auth=CLIENT,
        timeout=10,
    ).json()["access_token"]

    denied = requests.post(
        f"{api_url}/messages", json={"text": "x"}, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )

    assert denied.status_code == 403
    assert challenge_parameters(denied.headers["WWW-Authenticate"]) == {
        "error": "insufficient_scope",
        "resource_metadata": metadata_url,
    }
