from __future__ import annotations

import json

import pytest

from jwt_authorizer.config import Settings
from jwt_authorizer.errors import ConfigurationError
from route_table import Route, RouteTable

MINIMAL = {"ISSUER": "https://issuer.example.com/", "AUDIENCE": "api://messages"}


def settings(**env: str) -> Settings:
    return Settings.from_env({**MINIMAL, **env})


def test_minimal_configuration_takes_the_documented_defaults() -> None:
    assert settings() == Settings(
        issuers=("https://issuer.example.com/",),
        audiences=frozenset({"api://messages"}),
        jwks_uri=None,
        routes=RouteTable(),
        algorithms=frozenset({"RS256"}),
        leeway_seconds=30,
        jwks_cache_seconds=600,
        jwks_cooldown_seconds=30,
        jwks_max_stale_seconds=86_400,
        verified_token_cache_size=1_000,
    )


def test_every_variable_is_read() -> None:
    configured = settings(
        ISSUER="https://a.example.com, https://b.example.com/oauth2/default",
        AUDIENCE="api://one,api://two",
        ROUTE_SCOPES=json.dumps({"GET /messages": ["messages:read"], "ANY /admin/{proxy+}": ["admin"]}),
        ALGORITHMS="RS256,ES256,EdDSA,Ed25519",
        LEEWAY_SECONDS="5",
        JWKS_CACHE_SECONDS="120",
        JWKS_COOLDOWN_SECONDS="10",
        JWKS_MAX_STALE_SECONDS="3600",
        VERIFIED_TOKEN_CACHE_SIZE="0",
    )
    assert configured == Settings(
        issuers=("https://a.example.com", "https://b.example.com/oauth2/default"),
        audiences=frozenset({"api://one", "api://two"}),
        routes=RouteTable(
            (
                Route("GET", "/messages", frozenset({"messages:read"})),
                Route("*", "/admin/{proxy+}", frozenset({"admin"})),
            )
        ),
        algorithms=frozenset({"RS256", "ES256", "EdDSA", "Ed25519"}),
        leeway_seconds=5,
        jwks_cache_seconds=120,
        jwks_cooldown_seconds=10,
        jwks_max_stale_seconds=3600,
        verified_token_cache_size=0,
    )


def test_jwks_uri_skips_discovery_for_a_single_issuer() -> None:
    assert settings(JWKS_URI="https://issuer.example.com/keys").jwks_uri == "https://issuer.example.com/keys"


def test_loopback_issuers_may_use_plain_http() -> None:
    for issuer in ("http://127.0.0.1:3001", "http://localhost:3001/", "http://[::1]:3001"):
        assert settings(ISSUER=issuer).issuers == (issuer,)


@pytest.mark.parametrize(
    ("env", "variable", "message"),
    [
        ({"ISSUER": ""}, "ISSUER", "is required"),
        ({"ISSUER": "http://issuer.example.com"}, "ISSUER", "must use https"),
        ({"ISSUER": "issuer.example.com"}, "ISSUER", "has no host"),
        ({"ISSUER": "https://issuer.example.com?x=1"}, "ISSUER", "query string"),
        ({"ISSUER": "https://u:p@issuer.example.com"}, "ISSUER", "credentials"),
        ({"ISSUER": "https://a.example.com,https://a.example.com"}, "ISSUER", "twice"),
        ({"AUDIENCE": " , "}, "AUDIENCE", "is required"),
        ({"JWKS_URI": "http://keys.example.com/jwks"}, "JWKS_URI", "must use https"),
        (
            {"ISSUER": "https://a.example.com,https://b.example.com", "JWKS_URI": "https://a.example.com/k"},
            "JWKS_URI",
            "single ISSUER",
        ),
        ({"ALGORITHMS": "RS256,HS256"}, "ALGORITHMS", "'HS256' is not supported"),
        ({"ALGORITHMS": "none"}, "ALGORITHMS", "'none' is not supported"),
        ({"ALGORITHMS": "rs256"}, "ALGORITHMS", "'rs256' is not supported"),
        ({"ALGORITHMS": "Ed25519,Ed448"}, "ALGORITHMS", "'Ed448' is not supported: no provider signs"),
        ({"LEEWAY_SECONDS": "ten"}, "LEEWAY_SECONDS", "not a whole number"),
        ({"LEEWAY_SECONDS": "301"}, "LEEWAY_SECONDS", "outside 0..300"),
        ({"JWKS_CACHE_SECONDS": "0"}, "JWKS_CACHE_SECONDS", "outside 1..86400"),
        ({"JWKS_COOLDOWN_SECONDS": "-1"}, "JWKS_COOLDOWN_SECONDS", "outside 0..3600"),
        ({"JWKS_MAX_STALE_SECONDS": "1.5"}, "JWKS_MAX_STALE_SECONDS", "not a whole number"),
        ({"VERIFIED_TOKEN_CACHE_SIZE": "many"}, "VERIFIED_TOKEN_CACHE_SIZE", "not a whole number of entries"),
        ({"VERIFIED_TOKEN_CACHE_SIZE": "100001"}, "VERIFIED_TOKEN_CACHE_SIZE", "outside 0..100000"),
        ({"ROUTE_SCOPES": "{not json"}, "ROUTE_SCOPES", "not valid JSON"),
        ({"ROUTE_SCOPES": '["GET /x"]'}, "ROUTE_SCOPES", "must be a JSON object"),
        ({"ROUTE_SCOPES": '{"GET messages": ["a"]}'}, "ROUTE_SCOPES", 'is not "METHOD /path"'),
        ({"ROUTE_SCOPES": '{"FETCH /messages": ["a"]}'}, "ROUTE_SCOPES", 'is not "METHOD /path"'),
        ({"ROUTE_SCOPES": '{"GET /messages": "messages:read"}'}, "ROUTE_SCOPES", "list of scope names"),
        ({"ROUTE_SCOPES": '{"GET /messages": ["two words"]}'}, "ROUTE_SCOPES", "list of scope names"),
    ],
)
def test_a_bad_value_stops_start_up_with_an_error_naming_the_variable(
    env: dict[str, str], variable: str, message: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        settings(**env)
    assert raised.value.variable == variable
    assert str(raised.value).startswith(f"{variable}: ")
    assert message in str(raised.value)
