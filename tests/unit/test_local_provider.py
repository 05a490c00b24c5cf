"""The local OpenID provider's token endpoint, configuration and signing keys, without HTTP."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import jwt
import pytest

from devkit.clock import FakeClock
from local.provider import (
    ConfigError,
    KeyStore,
    ProviderConfig,
    TokenIssuer,
)
from local.stack import StackOptions

ISSUER = "http://127.0.0.1:3001"
FORM = "application/x-www-form-urlencoded"
CONFIG = ProviderConfig.parse(
    {
        "audience": "api://messages",
        "token_lifetime_seconds": 600,
        "scopes": ["messages:read", "messages:write"],
        "clients": {
            "dev-client": {"secret": "dev-secret", "scopes": ["messages:read", "messages:write"]},
            "odd id&:": {"secret": "p@ss:word+", "scopes": ["messages:read"]},
        },
    }
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1_800_000_000.0)


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> TokenIssuer:
    # One signing key for the module: generating RSA keys is the slow part of these tests.
    clock = FakeClock(start=1_800_000_000.0)
    keys = KeyStore(tmp_path_factory.mktemp("provider") / "keys.json", now=clock)
    return TokenIssuer(ISSUER, CONFIG, keys, now=clock)


def basic(client_id: str, secret: str) -> str:
    from urllib.parse import quote_plus

    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def test_issued_token_has_the_rfc9068_header_and_claims(issuer: TokenIssuer) -> None:
    reply = issuer.token_reply(
        FORM, b"grant_type=client_credentials&scope=messages:read", basic("dev-client", "dev-secret")
    )

    assert reply.status == 200
    token = reply.body.pop("access_token")
    assert reply.body == {"token_type": "Bearer", "expires_in": 600, "scope": "messages:read"}
    key = issuer.keys.active()
    assert jwt.get_unverified_header(token) == {"alg": "RS256", "typ": "at+jwt", "kid": key.kid}
    claims = jwt.decode(
        token,
        key.private_key.public_key(),
        algorithms=["RS256"],
        audience="api://messages",
        options={"verify_exp": False, "verify_iat": False},
    )
    jti = claims.pop("jti")
    assert len(jti) == 32
    assert claims == {
        "iss": ISSUER,
        "aud": "api://messages",
        "sub": "dev-client",
        "client_id": "dev-client",
        "scope": "messages:read",
        "iat": 1_800_000_000,
        "exp": 1_800_000_600,
    }


def test_basic_credentials_are_form_decoded_as_rfc6749_says(issuer: TokenIssuer) -> None:
    reply = issuer.token_reply(FORM, b"grant_type=client_credentials", basic("odd id&:", "p@ss:word+"))

    assert (reply.status, reply.body["scope"]) == (200, "messages:read")


@pytest.mark.parametrize(
    ("form", "authorization", "error"),
    [
        (
            "grant_type=client_credentials&client_secret=dev-secret",
            basic("dev-client", "dev-secret"),
            "invalid_request",
        ),
        (
            "grant_type=client_credentials&client_id=other",
            basic("dev-client", "dev-secret"),
            "invalid_request",
        ),
        ("grant_type=client_credentials", "Bearer abc", "invalid_client"),
        ("grant_type=client_credentials", "Basic not base64!", "invalid_client"),
        (
            "grant_type=client_credentials",
            "Basic " + base64.b64encode(b"no-colon").decode(),
            "invalid_client",
        ),
        ("grant_type=client_credentials&client_id=dev-client", None, "invalid_client"),
        ("grant_type=client_credentials&scope=", basic("dev-client", "dev-secret"), "invalid_scope"),
        ("grant_type=client_credentials&scope=a%20%20b", basic("dev-client", "dev-secret"), "invalid_scope"),
        (
            "grant_type=client_credentials&scope=messages:write",
            basic("odd id&:", "p@ss:word+"),
            "invalid_scope",
        ),
        ("grant_type=password", basic("dev-client", "dev-secret"), "unsupported_grant_type"),
        ("grant_type=authorization_code", basic("dev-client", "dev-secret"), "unauthorized_client"),
        ("grant_type=", basic("dev-client", "dev-secret"), "invalid_request"),
    ],
)
def test_token_endpoint_errors(issuer: TokenIssuer, form: str, authorization: str | None, error: str) -> None:
    reply = issuer.token_reply(FORM, form.encode(), authorization)

    assert reply.body["error"] == error
    assert reply.status == (401 if error == "invalid_client" else 400)
    assert ("Cache-Control", "no-store") in reply.headers


def test_a_wrong_secret_is_invalid_client_with_a_basic_challenge(issuer: TokenIssuer) -> None:
    reply = issuer.token_reply(FORM, b"grant_type=client_credentials", basic("dev-client", "dev-secreT"))

    assert reply.status == 401
    assert reply.body == {"error": "invalid_client", "error_description": "client authentication failed"}
    assert dict(reply.headers)["WWW-Authenticate"] == 'Basic realm="local-provider", charset="UTF-8"'


def test_rotation_keeps_the_old_key_published_until_its_last_token_expires(
    tmp_path: Path, clock: FakeClock
) -> None:
    keys = KeyStore(tmp_path / "keys.json", now=clock)
    old = keys.active()

    new = keys.rotate(token_lifetime_seconds=600)

    assert keys.active().kid == new.kid != old.kid
    assert [key.kid for key in keys.published()] == [old.kid, new.kid]
    clock.advance(600 + 59)
    assert [key.kid for key in keys.published()] == [old.kid, new.kid]
    clock.advance(1)
    assert [key.kid for key in keys.published()] == [new.kid]


def test_a_key_file_rotated_by_another_process_is_picked_up(tmp_path: Path, clock: FakeClock) -> None:
    running = KeyStore(tmp_path / "keys.json", now=clock)
    first = running.active()

    rotated = KeyStore(tmp_path / "keys.json", now=clock).rotate(600)

    assert running.active().kid == rotated.kid
    assert {key.kid for key in running.published()} == {first.kid, rotated.kid}
    assert (tmp_path / "keys.json").stat().st_mode & 0o777 == 0o600


def test_the_shipped_provider_config_has_the_documented_default_client() -> None:
    config = ProviderConfig.load(StackOptions().provider_config)

    assert config.clients["dev-client"].secret == "dev-secret"
    assert config.clients["dev-client"].scopes == {"messages:read", "messages:write"}
    assert config.audience == "api://messages"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"audience": ""}, "'audience'"),
        ({"token_lifetime_seconds": 5}, "'token_lifetime_seconds'"),
        ({"scopes": "messages:read"}, "'scopes'"),
        ({"clients": {}}, "'clients'"),
        ({"clients": {"c": {"scopes": []}}}, "clients.c"),
        ({"clients": {"c": {"secret": "s", "scopes": ["admin"]}}}, "clients.c.scopes"),
    ],
)
def test_a_bad_config_names_the_field(change: dict[str, Any], named: str) -> None:
    document = {
        "audience": "api://x",
        "scopes": ["a"],
        "clients": {"c": {"secret": "s", "scopes": ["a"]}},
    } | change

    with pytest.raises(ConfigError, match=named):
        ProviderConfig.parse(json.loads(json.dumps(document)))
