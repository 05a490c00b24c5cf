from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devkit.tokens import b64url, b64url_json, raw_token, respellings
from jwt_authorizer.compact import MAX_AUTHORIZATION_LENGTH, bearer_token, decode_unverified
from jwt_authorizer.errors import TokenRejected

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


def _lenient_b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _with_length(members: dict[str, str], remainder: int) -> str:
    """b64url of `members` as JSON, with a filler member sized so the segment's length is 4n+remainder."""
    for size in range(8):
        segment = b64url_json({**members, "pad": "x" * size})
        if len(segment) % 4 == remainder:
            return segment
    raise AssertionError("unreachable: three filler sizes cover every remainder")


HEADER = b64url_json({"alg": "RS256", "kid": "k"})
PAYLOAD = b64url_json({"sub": "s"})


@pytest.mark.parametrize("remainder", [2, 3])
@pytest.mark.parametrize("part", ["header", "payload", "signature"])
def test_a_segment_spelled_with_spare_bits_set_is_malformed(part: str, remainder: int) -> None:
    segments = {
        "header": _with_length({"alg": "RS256", "kid": "k"}, remainder),
        "payload": _with_length({"sub": "s"}, remainder),
        "signature": b64url(b"\x01" * (256 if remainder == 2 else 257)),
    }
    assert decode_unverified(".".join(segments.values()))  # the canonical spelling is read
    for spelling in respellings(segments[part]):
        # The same bytes to a lenient decoder, so only the spelling is wrong
        assert _lenient_b64decode(spelling) == _lenient_b64decode(segments[part])
        token = ".".join(spelling if name == part else segment for name, segment in segments.items())
        with pytest.raises(TokenRejected) as raised:
            decode_unverified(token)
        assert (raised.value.reason, raised.value.detail) == (
            "malformed_token",
            f"the {part} is not canonical (bits set past its last byte) base64url",
        )


@given(st.binary(min_size=1, max_size=64))
def test_only_the_canonical_spelling_of_any_bytes_is_read(data: bytes) -> None:
    canonical = b64url(data)
    assert decode_unverified(f"{HEADER}.{PAYLOAD}.{canonical}").signature == data
    for spelling in respellings(canonical):
        with pytest.raises(TokenRejected):
            decode_unverified(f"{HEADER}.{PAYLOAD}.{spelling}")


def test_a_segment_has_16_4_or_1_lenient_spellings_by_its_length() -> None:
    assert [1 + len(respellings(b64url(data))) for data in (b"a", b"ab", b"abc")] == [16, 4, 1]
