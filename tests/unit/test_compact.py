from __future__ import annotations

import pytest

from jwt_authorizer.compact import MAX_AUTHORIZATION_LENGTH, bearer_token, decode_unverified
from jwt_authorizer.errors import TokenRejected
from tests.support.tokens import b64url, raw_token

TOKEN = raw_token({"alg": "RS256", "kid": "k"}, {"sub": "s"})


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_bearer_scheme_is_case_insensitive(scheme: str) -> None:
    assert bearer_token(f"{scheme} {TOKEN}") == TOKEN


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        42,
        b"Bearer x.y.z",
        ["Bearer", TOKEN],
        "",
        "Bearer",
        "Bearer ",
        TOKEN,
        f"Token {TOKEN}",
        f"Basic {TOKEN}",
        f"Bearer  {TOKEN}",
        f" Bearer {TOKEN}",
        f"Bearer {TOKEN} ",
        f"Bearer {TOKEN}\n",
        f"Bearer {TOKEN} {TOKEN}",
        f"Bearer {TOKEN},{TOKEN}",
        f"Bearer\t{TOKEN}",
        "Bearer a.b",
        "Bearer a.b.c.d.e",
        "Bearer a..c",
        "Bearer a.b.",
        "Bearer a.b.c=",
        "Bearer a+b.c/d.e",
        "Bearer é.b.c",
    ],
)
def test_anything_but_one_bearer_jws_is_rejected(authorization: object) -> None:
    with pytest.raises(TokenRejected) as raised:
        bearer_token(authorization)
    assert raised.value.reason == "malformed_header"


def test_oversized_values_are_refused_before_any_parsing() -> None:
    oversized = "Bearer " + "a" * MAX_AUTHORIZATION_LENGTH
    with pytest.raises(TokenRejected) as raised:
        bearer_token(oversized)
    assert raised.value.reason == "token_too_large"


def test_decoding_gives_header_claims_signing_input_and_signature() -> None:
    token = raw_token({"alg": "RS256", "kid": "k"}, {"sub": "s", "n": 1}, signature=b"\x00\xffsig")
    decoded = decode_unverified(token)
    assert decoded.header == {"alg": "RS256", "kid": "k"}
    assert decoded.claims == {"sub": "s", "n": 1}
    assert decoded.signing_input == token.rsplit(".", 1)[0].encode()
    assert decoded.signature == b"\x00\xffsig"


def test_a_header_seen_before_is_decoded_alike_and_never_shared() -> None:
    token = raw_token({"alg": "RS256", "kid": "shared"}, {"sub": "s"})
    first = decode_unverified(token)
    first.header["alg"] = "none"
    first.header["kid"] = "changed"
    assert decode_unverified(token).header == {"alg": "RS256", "kid": "shared"}


@pytest.mark.parametrize(
    ("header", "payload", "part"),
    [
        (b64url(b"not json"), b64url(b'{"sub":"s"}'), "header"),
        (b64url(b'{"alg":"RS256"}'), b64url(b"[1, 2]"), "payload"),
        (b64url(b'{"alg":"RS256"}'), b64url(b'"a string"'), "payload"),
        (b64url(b'{"alg":"RS256","alg":"none"}'), b64url(b"{}"), "header"),
        (b64url(b'{"alg":"RS256"}'), b64url(b'{"exp":NaN}'), "payload"),
        (b64url(b'{"alg":"RS256"}'), b64url(b'{"exp":Infinity}'), "payload"),
        (b64url(b'{"alg":"RS256"}'), b64url(b'{"sub":"\xff"}'), "payload"),
        (b64url(b'{"alg":"RS256"}'), b64url(b"[" * 100_000), "payload"),
        ("abcde", b64url(b"{}"), "header"),
    ],
)
def test_segments_that_are_not_base64url_json_objects_are_rejected(
    header: str, payload: str, part: str
) -> None:
    with pytest.raises(TokenRejected) as raised:
        decode_unverified(f"{header}.{payload}.{b64url(b'sig')}")
    assert raised.value.reason == "malformed_token"
    assert part in raised.value.detail
