"""A JWKS URI learned from a discovery document is held to its own rule, deployed and under the SAM CLI:
https to a public destination, or on the origin of a configured URL. Plain http, and loopback, link-local
or private destinations, are only for what the operator configured (ISSUER, JWKS_URI).

Every request the authorizer makes goes through `requests.Session.request`, recorded here: the discovery
document is served by a real server on 127.0.0.1, any other URL is recorded and never reached.
"""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from devkit.jwks_server import JwksServer, Reply
from devkit.tokens import SigningKey, claims_for, jwks_of, mint
from jwt_authorizer import Settings
from tests.support.harness import Outcome, classify, load_handler, token_event, watching_logs
from tests.support.providers import StaticFetcher
from tools.explain import explain

LEARNED_URLS = [
    "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next",  # the Lambda Runtime API
    "http://localhost:9001/jwks",
    "https://127.0.0.1:9001/jwks",
    "https://localhost/jwks",
    "https://127.1/jwks",  # what the resolver reads as 127.0.0.1
    "https://2130706433/jwks",
    "https://[::1]/jwks",
    "https://[::ffff:127.0.0.1]/jwks",
    "http://169.254.169.254/latest/meta-data/",  # link-local: instance metadata
    "https://169.254.170.2/v2/credentials",
    "http://172.17.0.1:3001/jwks",  # Docker's bridge gateway
    "https://172.17.0.1:3001/jwks",
    "http://host.docker.internal:3001/jwks",
    "https://host.docker.internal/jwks",
    "https://10.0.0.5/jwks",
    "https://192.168.1.10/jwks",
    "https://100.64.0.1/jwks",  # shared address space (carrier-grade NAT)
    "https://[fd00:ec2::254]/latest/meta-data/",  # EC2's IPv6 instance metadata
    "https://keys.internal/jwks",
    "http://keys.example.com/jwks",
]


@pytest.fixture
def requested(monkeypatch: pytest.MonkeyPatch, jwks_server: JwksServer) -> list[str]:
    """The URLs the authorizer requests; only the JWKS server's are really fetched."""
    seen: list[str] = []
    real = requests.Session.request

    def request(session: requests.Session, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        seen.append(url)
        if urlsplit(url).port == urlsplit(jwks_server.base_url).port:
            return real(session, method, url, *args, **kwargs)
        raise requests.ConnectionError("not reachable from this test")

    monkeypatch.setattr(requests.Session, "request", request)
    return seen


@pytest.mark.parametrize("sam_cli", [False, True], ids=["deployed", "under the SAM CLI"])
@pytest.mark.parametrize("learned", LEARNED_URLS)
def test_a_discovered_jwks_uri_that_is_plain_http_or_internal_is_never_requested(
    learned: str,
    sam_cli: bool,
    monkeypatch: pytest.MonkeyPatch,
    jwks_server: JwksServer,
    rsa_signing_key: SigningKey,
    requested: list[str],
) -> None:
    # Given a configured loopback issuer whose discovery document names another place for its keys
    handler, token = _start(monkeypatch, jwks_server, rsa_signing_key, jwks_server.issuer, learned, sam_cli)
    # When a token needs the keys
    with watching_logs(handler.SERVICE_NAME) as watch:
        outcome, _ = classify(lambda e: handler.lambda_handler(e, None), token_event(f"Bearer {token}"))
    # Then only the discovery document is requested, the authorizer fails closed, and the log says why
    assert requested == [jwks_server.base_url + jwks_server.discovery_path]
    assert outcome is Outcome.UNAVAILABLE
    failures = [json.loads(line) for line in watch.stream.getvalue().splitlines()]
    errors = [line["error"] for line in failures if line["message"] == "JWKS fetch failed"]
    assert len(errors) == 1
    assert errors[0].startswith(f"refusing the discovery document's jwks_uri {learned!r}: it must ")


@pytest.mark.parametrize("sam_cli", [False, True], ids=["deployed", "under the SAM CLI"])
def test_a_discovered_jwks_uri_on_the_configured_issuers_own_host_and_port_is_fetched(
    sam_cli: bool,
    monkeypatch: pytest.MonkeyPatch,
    jwks_server: JwksServer,
    rsa_signing_key: SigningKey,
    requested: list[str],
) -> None:
    # The local provider's shape (make dev, a provider run on this machine): plain http on loopback, the
    # JWKS beside the discovery document, the host spelled in another case.
    same_origin = jwks_server.base_url.replace("127.0.0.1", "LOCALHOST").replace("http:", "HTTP:")
    issuer = jwks_server.issuer.replace("127.0.0.1", "localhost")
    learned = same_origin + jwks_server.jwks_path
    handler, token = _start(monkeypatch, jwks_server, rsa_signing_key, issuer, learned, sam_cli)
    outcome, _ = classify(lambda e: handler.lambda_handler(e, None), token_event(f"Bearer {token}"))
    assert outcome is Outcome.ALLOW
    assert jwks_server.jwks_fetches == 1


def _start(
    monkeypatch: pytest.MonkeyPatch,
    server: JwksServer,
    key: SigningKey,
    issuer: str,
    learned_jwks_uri: str,
    sam_cli: bool,
) -> tuple[ModuleType, str]:
    """The handler after a cold start, trusting `issuer`, whose discovery names `learned_jwks_uri`; a
    token for it."""
    server.publish(jwks_of(key))
    server.replies[server.discovery_path] = Reply.json({"issuer": issuer, "jwks_uri": learned_jwks_uri})
    if sam_cli:
        monkeypatch.setenv("AWS_SAM_LOCAL", "true")
    else:
        monkeypatch.delenv("AWS_SAM_LOCAL", raising=False)
    return load_handler(monkeypatch, issuer), mint(key, claims_for(issuer))


def test_make_explain_says_why_a_discovered_jwks_uri_was_not_fetched(rsa_signing_key: SigningKey) -> None:
    issuer = "https://auth.example.com"
    discovery = {"issuer": issuer, "jwks_uri": "http://169.254.169.254/latest/meta-data/"}
    fetcher = StaticFetcher({issuer + "/.well-known/openid-configuration": discovery})
    settings = Settings.from_env({"ISSUER": issuer, "AUDIENCE": "api://messages"})
    explained = explain(mint(rsa_signing_key, claims_for(issuer)), settings, fetcher=fetcher)
    assert fetcher.requested == [issuer + "/.well-known/openid-configuration"]
    assert (
        "refusing the discovery document's jwks_uri 'http://169.254.169.254/latest/meta-data/': it must use"
        " https" in explained.text
    )
