"""The handler's cold start fetches the keys in the background, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from devkit.jwks_server import JwksServer
from devkit.tokens import AUDIENCE, SigningKey, claims_for, jwks_of, mint
from jwt_authorizer import AuthorizerUnavailableError

ROOT = Path(__file__).resolve().parents[2]
STAGE = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/dev"
WAIT = 10.0


def event(token: str) -> dict[str, Any]:
    return {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": f"{STAGE}/GET/profile"}


@pytest.fixture
def handler(
    monkeypatch: pytest.MonkeyPatch, jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> ModuleType:
    """The handler module, its environment set for a cold start with the prefetch on (not started yet)."""
    monkeypatch.setenv("ISSUER", jwks_server.issuer)
    monkeypatch.setenv("AUDIENCE", AUDIENCE)
    monkeypatch.setenv("ROUTE_SCOPES", json.dumps({"GET /profile": []}))
    import authorizer_handler  # (its first import in this process, if it is one, prefetches nothing)

    jwks_server.publish(jwks_of(rsa_signing_key))
    monkeypatch.setenv("JWKS_PREFETCH", "true")
    return authorizer_handler


def test_the_cold_start_does_not_wait_for_the_provider_and_the_first_request_does_not_fetch_again(
    handler: ModuleType, jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> None:
    # Given a provider that holds its JWKS answer until the test releases it
    reply = jwks_server.replies[jwks_server.jwks_path]
    reply.arrived, reply.held_until = threading.Event(), threading.Event()
    # When the cold start runs: it returns while the provider still holds the keys
    handler.reset()
    assert reply.arrived.wait(WAIT)
    assert not reply.held_until.is_set()
    # and the first request, arriving meanwhile, waits for that fetch
    answers: list[dict[str, Any]] = []
    token = mint(rsa_signing_key, claims_for(jwks_server.issuer))
    request = threading.Thread(target=lambda: answers.append(handler.lambda_handler(event(token), None)))
    request.start()
    reply.held_until.set()
    request.join(WAIT)
    # Then it is allowed, and the provider was asked once for each document
    assert answers[0]["principalId"] == "user-123"
    assert jwks_server.hits == {jwks_server.discovery_path: 1, jwks_server.jwks_path: 1}


def test_a_provider_slower_than_the_read_timeout_leaves_the_request_failing_closed(
    handler: ModuleType, jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> None:
    # Given a provider that answers after the fetcher's read timeout (1.5 s)
    reply = jwks_server.replies[jwks_server.jwks_path]
    reply.arrived, reply.held_until = threading.Event(), threading.Event()
    handler.reset()
    assert reply.arrived.wait(WAIT)
    # When the first request comes: it waits for the prefetch, which gives up within its budget
    token = mint(rsa_signing_key, claims_for(jwks_server.issuer))
    try:
        with pytest.raises(AuthorizerUnavailableError):
            handler.lambda_handler(event(token), None)
    finally:
        reply.held_until.set()
    # Then it failed closed (5xx) without a fetch of its own: the failure counts against the cooldown
    assert jwks_server.hits[jwks_server.jwks_path] == 1


def test_without_the_prefetch_the_first_request_fetches(
    handler: ModuleType, jwks_server: JwksServer, rsa_signing_key: SigningKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JWKS_PREFETCH", "false")
    handler.reset()
    assert jwks_server.hits == {}

    token = mint(rsa_signing_key, claims_for(jwks_server.issuer))
    handler.lambda_handler(event(token), None)

    assert jwks_server.hits == {jwks_server.discovery_path: 1, jwks_server.jwks_path: 1}


# Run in a fresh interpreter: reports, at the first lookup of PyJWT, which thread wants it and whether the
# prefetch has started by then.
_WATCH_PYJWT = """
import json, sys, threading

class WatchPyJwt:
    seen = False

    def find_spec(self, name, path=None, target=None):
        if name == "jwt" and not WatchPyJwt.seen:
            WatchPyJwt.seen = True
            prefetching = [t.name for t in threading.enumerate() if t.name.startswith("jwks-prefetch")]
            report = {"thread": threading.current_thread().name, "prefetching": prefetching}
            print("PYJWT " + json.dumps(report), flush=True)
        return None

sys.meta_path.insert(0, WatchPyJwt())
import authorizer_handler
"""


def test_the_keys_are_on_their_way_before_pyjwt_and_cryptography_load(
    jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> None:
    # Given a provider that holds its JWKS answer, and a fresh interpreter: what the handler imports first
    jwks_server.publish(jwks_of(rsa_signing_key))
    reply = jwks_server.replies[jwks_server.jwks_path]
    reply.arrived, reply.held_until = threading.Event(), threading.Event()
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(str(ROOT / "functions" / name) for name in ("authorizer", "shared")),
        "ISSUER": jwks_server.issuer,
        "AUDIENCE": AUDIENCE,
        "ROUTE_SCOPES": json.dumps({"GET /profile": []}),
        "JWKS_PREFETCH": "true",
    }
    try:
        # When the handler module is imported, as Lambda's init does
        child = subprocess.run(  # noqa: S603 - our own interpreter and program
            [sys.executable, "-c", _WATCH_PYJWT], env=environment, capture_output=True, text=True,
            timeout=60, check=False,
        )  # fmt: skip
        # Then the request for the keys reached the provider
        assert reply.arrived.wait(WAIT)
    finally:
        reply.held_until.set()
    assert child.returncode == 0, child.stderr
    # and PyJWT (with cryptography under it) was first asked for by the init, after the prefetch started:
    # what it takes to import them overlaps the wait for the provider
    report = json.loads(next(line for line in child.stdout.splitlines() if line.startswith("PYJWT "))[6:])
    assert report == {"thread": "MainThread", "prefetching": [f"jwks-prefetch {jwks_server.issuer}"]}
