"""The local provider over HTTP on this machine: loopback only for what signs in and issues tokens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from local.provider import KeyStore, ProviderConfig, ProviderServer, TokenIssuer
from local.stack import StackOptions


@pytest.fixture
def beyond_loopback(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The provider bound on every interface, as `make sam-local` binds Docker's bridge gateway."""
    # On purpose, for the length of one test: what a bind beyond loopback serves is what is tested.
    server = ProviderServer("0.0.0.0", 0)  # noqa: S104
    config = ProviderConfig.load(StackOptions().provider_config)
    server.issuer = TokenIssuer(server.url, config, KeyStore(tmp_path_factory.mktemp("keys") / "keys.json"))
    server.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.stop()


def test_bound_beyond_loopback_the_provider_serves_keys_and_metadata_and_issues_nothing(
    beyond_loopback: str,
) -> None:
    base = beyond_loopback

    assert requests.get(f"{base}/.well-known/jwks.json", timeout=5).status_code == 200
    assert requests.get(f"{base}/.well-known/oauth-authorization-server", timeout=5).status_code == 200
    refused = {
        "token": requests.post(
            f"{base}/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=("dev-client", "dev-secret"),
            timeout=5,
        ).status_code,
        "sign-in page": requests.get(f"{base}/oauth2/authorize?client_id=dev-app", timeout=5).status_code,
        "sign-in": requests.post(f"{base}/oauth2/authorize", data={"user": "alice"}, timeout=5).status_code,
        "registration": requests.post(f"{base}/oauth2/register", json={}, timeout=5).status_code,
    }
    assert refused == {"token": 404, "sign-in page": 404, "sign-in": 404, "registration": 404}
