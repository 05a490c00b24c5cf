"""The handler's own SnapStart hooks, run as Lambda runs them, against a JWKS server on 127.0.0.1."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
import snapshot_restore_py

from devkit.jwks_server import JwksServer
from devkit.tokens import AUDIENCE, SigningKey, claims_for, jwks_of, mint

STAGE = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/dev"


def handler_hooks(handler: ModuleType, registry: list[Any]) -> list[Callable[[], object]]:
    """This handler module's hooks in the registry, called as the runtime calls them.

    (The local stack loads the handler afresh for each gateway it starts; Lambda imports it once.)
    """
    return [
        functools.partial(hook, *args, **kwargs)
        for hook, args, kwargs in registry
        if getattr(hook, "__globals__", None) is vars(handler)
    ]


@pytest.fixture
def handler(
    monkeypatch: pytest.MonkeyPatch, jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> ModuleType:
    monkeypatch.setenv("ISSUER", jwks_server.issuer)
    monkeypatch.setenv("AUDIENCE", AUDIENCE)
    monkeypatch.setenv("ROUTE_SCOPES", json.dumps({"GET /profile": []}))
    jwks_server.publish(jwks_of(rsa_signing_key))
    import authorizer_handler

    authorizer_handler.reset()
    return authorizer_handler


def test_the_handler_registers_hooks_that_snapshot_its_keys_and_serve_them_after_a_restore(
    handler: ModuleType, jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> None:
    before = handler_hooks(handler, snapshot_restore_py.get_before_snapshot())
    after = handler_hooks(handler, snapshot_restore_py.get_after_restore())
    assert len(before) == len(after) == 1

    for hook in reversed(before):  # publishing the version
        hook()
    assert jwks_server.hits == {jwks_server.discovery_path: 1, jwks_server.jwks_path: 1}
    for hook in after:  # a new environment, restored from the snapshot
        hook()
    token = mint(rsa_signing_key, claims_for(jwks_server.issuer))
    answer = handler.lambda_handler(
        {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": f"{STAGE}/GET/profile"}, None
    )

    assert answer["principalId"] == "user-123"
    assert jwks_server.hits == {jwks_server.discovery_path: 1, jwks_server.jwks_path: 1}
