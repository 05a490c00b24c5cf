"""Reading a bearer token without trusting it: the Authorization header, then the compact JWS.

Everything here is bounded and strict; nothing is verified yet. A failure is always `TokenRejected`.
"""

from __future__ import annotations

import binascii
import functools
import json
import math
import re
from typing import Any, NamedTuple

from .errors import Reason, TokenRejected

#: Longest Authorization value we read at all. API Gateway itself limits a header to 10 KiB; real access
#: tokens, even Entra ID tokens with many groups, stay well below this.
MAX_AUTHORIZATION_LENGTH = 12_288

#: Deepest JSON nesting read in a header or payload (real tokens nest a few levels). Explicit, because the
#: parser's own limit depends on the interpreter: about 1,000 levels on Python 3.11, thousands on 3.13.
MAX_JSON_DEPTH = 32

_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] ([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")
#: RFC 9449 section 7.1: the DPoP scheme, read as strictly as Bearer.
_DPOP = re.compile(r"[Dd][Pp][Oo][Pp] ([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")


def bearer_token(authorization: object) -> str:
    """The compact JWS from `Bearer <jwt>`: scheme case-insensitive, one space, one token, no extras."""
    return _credential(authorization, _BEARER, "Bearer")


def dpop_token(authorization: object) -> str:
    """The compact JWS from `DPoP <jwt>`, read as `bearer_token` reads Bearer."""
    return _credential(authorization, _DPOP, "DPoP")


def _credential(authorization: object, pattern: re.Pattern[str], scheme: str) -> str:
    if not isinstance(authorization, str):
        raise TokenRejected(Reason.MALFORMED_HEADER, "the Authorization value is missing or not a string")
    if len(authorization) > MAX_AUTHORIZATION_LENGTH:
        raise TokenRejected(Reason.TOKEN_TOO_LARGE, f"over {MAX_AUTHORIZATION_LENGTH} characters")
    match = pattern.fullmatch(authorization)
    if match is None:
        raise TokenRejected(Reason.MALFORMED_HEADER, f"expected '{scheme} <compact JWS>'")
    return match.group(1)


class UnverifiedToken(NamedTuple):  # a NamedTuple: built once per token, cheaper than a frozen dataclass
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def decode_unverified(token: str) -> UnverifiedToken:
    """Split and decode a compact JWS whose shape `bearer_token` already checked."""
    header_segment, payload_segment, signature_segment = token.split(".")
    header = dict(_header(header_segment))  # a copy: the memoized one is never handed out
    claims = _json_object(_b64decode(payload_segment, "payload"), "payload")
    signature = _b64decode(signature_segment, "signature")
    signing_input = token[: len(header_segment) + 1 + len(payload_segment)].encode("ascii")
    return UnverifiedToken(header, claims, signing_input, signature)


@functools.lru_cache(maxsize=64)
def _header(segment: str) -> dict[str, Any]:
    # An issuer signs every token with the same few headers (alg, kid, typ): each is decoded once.
    # A header that fails to decode raises, and nothing is kept for it.
    return _json_object(_b64decode(segment, "header"), "header")


#: By length mod 4, the characters a canonical segment can end with: those whose bits past the last whole
#: byte are zero (RFC 4648 section 3.5). Decoders ignore those bits, so without this check one token has
#: up to 16 accepted spellings, and a deny list, a log search or API Gateway's result cache keyed on the
#: token's text would see each spelling as another token.
_CANONICAL_LAST = ("", "", "AQgw", "AEIMQUYcgkosw048")


def _b64decode(segment: str, part: str) -> bytes:
    # The alphabet was checked by the header pattern; a length of 4n+1 can never be valid base64.
    # Looking at the last character is all a re-encoding round trip would find, at a fraction of its cost.
    # binascii directly, not base64.urlsafe_b64decode: the same decoding at two thirds of the cost.
    remainder = len(segment) % 4
    if remainder and segment[-1] not in _CANONICAL_LAST[remainder]:
        problem = "not valid" if remainder == 1 else "not canonical (bits set past its last byte)"
        raise TokenRejected(Reason.MALFORMED_TOKEN, f"the {part} is {problem} base64url")
    try:
        return binascii.a2b_base64(segment.replace("-", "+").replace("_", "/") + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise TokenRejected(Reason.MALFORMED_TOKEN, f"the {part} is not valid base64url") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    # 1e400 is valid JSON text but overflows to infinity, which no JSON encoder will write back: in the
    # authorizer context it would make API Gateway fail the whole response.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:32]} is out of range")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate member name")
    return result


#: Built once: `json.loads` with these hooks would build a new decoder for every segment.
_DECODER = json.JSONDecoder(
    parse_constant=_reject_constant, parse_float=_finite_float, object_pairs_hook=_unique_keys
)
_JSON_WHITESPACE = " \t\n\r"


def _parse_json(text: str) -> Any:
    # raw_decode skips decode()'s regex pass; leading whitespace (rare, valid) takes the full path.
    if text[:1] in _JSON_WHITESPACE:
        return _DECODER.decode(text)
    value, end = _DECODER.raw_decode(text)
    if end != len(text) and text[end:].strip(_JSON_WHITESPACE):
        raise ValueError("extra data after the JSON value")
    return value


def _json_object(data: bytes, part: str) -> dict[str, Any]:
    try:
        value = _parse_json(data.decode("utf-8"))
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise TokenRejected(Reason.MALFORMED_TOKEN, f"the {part} is not valid JSON") from None
    if not isinstance(value, dict):
        raise TokenRejected(Reason.MALFORMED_TOKEN, f"the {part} is not a JSON object")
    # Counting brackets is cheap and bounds the depth from above; only then walk the value.
    if data.count(b"[") + data.count(b"{") > MAX_JSON_DEPTH and _deeper_than(value, MAX_JSON_DEPTH):
        raise TokenRejected(Reason.MALFORMED_TOKEN, f"the {part} nests deeper than {MAX_JSON_DEPTH} levels")
    return value


def _deeper_than(value: object, limit: int) -> bool:
    pending: list[tuple[object, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False
