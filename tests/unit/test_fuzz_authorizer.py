"""Property-based fuzzing of the whole pipeline, in process (the provider is a document in memory).

Whatever arrives, the answer is a decision API Gateway can use (Allow, or Deny for a scoped route),
exactly `Unauthorized`, and nothing else: never another exception, never a policy that is not strict
JSON, and an Allow only for a token whose decoded bytes are those that were signed.
"""

from __future__ import annotations

import binascii
import contextlib
import io
import json
import logging
from base64 import urlsafe_b64decode
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from devkit.clock import FakeClock
from devkit.logs import LogWatch
from devkit.tokens import AUDIENCE, b64url, claims_for, jwks_of, mint, rsa_key, sign_segments
from jwt_authorizer import (
    AuthorizerService,
    CloudWatchTelemetry,
    EmfMetrics,
    JwksFetchError,
    Settings,
    build_authorizer,
    parse_jwks,
)
from tests.support.harness import ROUTE_SCOPES, Outcome, classify, token_event
from tests.support.providers import StaticFetcher

ISSUER = "https://issuer.example.com"
NOW = 1_800_000_000
KEY = rsa_key("rsa-1")
ALLOWED_ROUTES = ("GET/profile", "GET/messages", "POST/messages", "DELETE/messages/7", "PUT/anything/else")
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_logger = logging.getLogger("jwt-authorizer-fuzz")
_logger.propagate = False
_log_stream = io.StringIO()
_logger.addHandler(logging.StreamHandler(_log_stream))
_logger.setLevel(logging.INFO)


def _service() -> AuthorizerService:
    configured = Settings.from_env(
        {"ISSUER": ISSUER, "AUDIENCE": AUDIENCE, "ROUTE_SCOPES": json.dumps(ROUTE_SCOPES)}
    )
    fetcher = StaticFetcher(
        {
            f"{ISSUER}/.well-known/openid-configuration": {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"},
            f"{ISSUER}/jwks": jwks_of(KEY),
        }
    )
    telemetry = CloudWatchTelemetry(_logger, EmfMetrics("JwtAuthorizerFuzz", "fuzz"))
    return build_authorizer(
        configured, telemetry=telemetry, fetcher=fetcher, clock=FakeClock(), now=lambda: NOW
    )


SERVICE = _service()
VALID = mint(KEY, claims_for(ISSUER, now=NOW, scope="messages:read"))


@contextlib.contextmanager
def watched(*authorizations: object) -> Iterator[None]:
    """Run quietly (metrics go to stdout) and prove nothing written contains the token material."""
    watch = LogWatch(stream=_log_stream)
    for authorization in authorizations:
        watch.remember(authorization)
    start = _log_stream.tell()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        yield
    written = _log_stream.getvalue()[start:] + printed.getvalue()
    assert [secret for secret in watch.secrets if secret in written] == []


def decide(authorization: object, route: str = "GET/profile") -> tuple[Outcome, Any]:
    with watched(authorization):
        found, detail = classify(SERVICE.handle, token_event(authorization, route))
    assert found in {Outcome.ALLOW, Outcome.DENY, Outcome.UNAUTHORIZED}, repr(detail)
    return found, detail


def decoded(token: str) -> list[bytes] | None:
    segments = token.split(".")
    if len(segments) != 3:
        return None
    try:
        return [urlsafe_b64decode(segment + "=" * (-len(segment) % 4)) for segment in segments]
    except (binascii.Error, ValueError):
        return None


B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_edit = st.one_of(
    st.tuples(
        st.just("replace"), st.integers(0, len(VALID) - 1), st.sampled_from(B64_ALPHABET + ".=+/ \x00é")
    ),
    st.tuples(st.just("insert"), st.integers(0, len(VALID)), st.sampled_from(B64_ALPHABET + ".=+/ \x00é")),
    st.tuples(st.just("delete"), st.integers(0, len(VALID) - 1), st.just("")),
)


def _apply(token: str, edits: list[tuple[str, int, str]]) -> str:
    for operation, position, character in edits:
        at = min(position, len(token))
        if operation == "replace":
            token = token[:at] + character + token[at + 1 :]
        elif operation == "insert":
            token = token[:at] + character + token[at:]
        else:
            token = token[:at] + token[at + 1 :]
    return token


@FUZZ
@given(edits=st.lists(_edit, min_size=1, max_size=4), route=st.sampled_from(ALLOWED_ROUTES))
def test_a_mutated_token_is_allowed_only_when_its_decoded_bytes_are_unchanged(
    edits: list[tuple[str, int, str]], route: str
) -> None:
    mutated = _apply(VALID, edits)
    outcome, _ = decide(f"Bearer {mutated}", route)
    if outcome is not Outcome.UNAUTHORIZED:
        # base64url's unused low bits let a signature be spelled more than one way; the bytes must match.
        assert decoded(mutated) == decoded(VALID)
        assert mutated.rsplit(".", 1)[0] == VALID.rsplit(".", 1)[0]


@FUZZ
@given(
    authorization=st.one_of(
        st.text(max_size=300),
        st.text(alphabet=B64_ALPHABET + ". ", max_size=300).map(lambda text: f"Bearer {text}"),
        st.binary(max_size=100).map(lambda raw: f"Bearer {b64url(raw)}.{b64url(raw)}.{b64url(raw)}"),
        st.builds(
            lambda s, t: f"{s} {t}",
            st.sampled_from(["Bearer", "bearer", "Token", "", "Bearer "]),
            st.just(VALID),
        ),
    )
)
def test_any_authorization_value_gets_a_decision_or_exactly_unauthorized(authorization: str) -> None:
    decide(authorization)


_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
#: Number literals a JSON encoder never writes but a JSON text can hold.
_raw_numbers = st.sampled_from(["1e400", "-1e400", "1E309", "1e308", "-0.0", "1" + "0" * 400, "4.9e-325"])
_claim_names = st.sampled_from(["exp", "nbf", "iat", "iss", "aud", "sub", "scope", "scp", "client_id", "x"])


@FUZZ
@given(
    overrides=st.dictionaries(_claim_names, _json_values, max_size=3),
    raw=st.none() | st.tuples(_claim_names, _raw_numbers),
    route=st.sampled_from(ALLOWED_ROUTES),
)
@example(overrides={}, raw=("x", "1e400"), route="GET/profile")  # overflows to infinity
def test_correctly_signed_claims_of_any_shape_give_a_strict_json_decision_or_unauthorized(
    overrides: dict[str, Any], raw: tuple[str, str] | None, route: str
) -> None:
    claims = {**claims_for(ISSUER, now=NOW), **overrides}
    payload = json.dumps(claims)
    if raw is not None:
        name, literal = raw
        claims.pop(name, None)
        payload = json.dumps(claims)[:-1] + f', "{name}": {literal}}}'
    header = json.dumps({"alg": "RS256", "kid": "rsa-1", "typ": "JWT"})
    token = sign_segments(KEY, header.encode(), payload.encode())
    decide(f"Bearer {token}", route)


@FUZZ
@given(
    event=st.one_of(
        _json_values,
        st.dictionaries(
            st.sampled_from(["type", "authorizationToken", "methodArn", "headers"]), _json_values | st.text()
        ),
        st.text(max_size=200).map(lambda arn: {"authorizationToken": f"Bearer {VALID}", "methodArn": arn}),
    )
)
def test_any_event_gets_a_decision_or_exactly_unauthorized(event: Any) -> None:
    with watched(VALID):
        found, detail = classify(SERVICE.handle, event)
    assert found in {Outcome.ALLOW, Outcome.DENY, Outcome.UNAUTHORIZED}, repr(detail)


_jwk_members = st.sampled_from(["kty", "kid", "use", "alg", "crv", "n", "e", "x", "y", "key_ops", "d", "k"])
_jwk_values = st.one_of(
    _json_values, st.sampled_from(["RSA", "EC", "OKP", "oct", "sig", "RS256", "P-256", "Ed25519"])
)


@settings(FUZZ, max_examples=100)
@given(
    document=st.one_of(
        _json_values,
        st.fixed_dictionaries({"keys": st.lists(st.dictionaries(_jwk_members, _jwk_values), max_size=5)}),
        st.lists(st.tuples(_jwk_members, _jwk_values), max_size=3).map(
            lambda changes: {"keys": [{**KEY.public_jwk(), **dict(changes)}]}
        ),
    )
)
def test_any_jwks_document_parses_or_is_a_failed_fetch(document: Any) -> None:
    try:
        parsed = parse_jwks(document, frozenset({"RS256", "ES256", "EdDSA"}))
    except JwksFetchError:
        return
    assert parsed.keys
