"""DPoP proofs (RFC 9449): the checks of section 4.3 and the token binding of section 6, as plain functions.

Nothing here knows API Gateway: the caller gives the proof, the request's method and URL, the access
token and the time, and gets back what the proof proves (its `jti` and its key's RFC 7638 thumbprint) or a
`TokenRejected` naming the check that failed. Whether the proof was seen before is the replay store's
question (dpop_replay.py); the URL the client called is rebuilt from the event by request_event.py.

The proof's key comes from the proof itself (its `jwk` header), so it is parsed with the same rules as an
issuer's published keys (keys.py): asymmetric only, RSA of 2048 bits or more, no private members, no key
anyone can sign for.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import re
import threading
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

from .compact import UnverifiedToken, decode_unverified
from .errors import Reason, TokenRejected

#: RFC 9449 section 4.2: the proof's `typ`; RFC 7515 4.1.9 lets it carry the "application/" prefix.
PROOF_TYPES = frozenset({"dpop+jwt", "application/dpop+jwt"})

#: The algorithms a proof may be signed with unless DPOP_ALGORITHMS says otherwise: what the providers'
#: clients use (Okta and Auth0 document ES256 and RS256; Keycloak adds PS256 and EdDSA), and Ed25519, the
#: fully specified name (RFC 9864) that current clients such as panva's `dpop` sign with.
DEFAULT_PROOF_ALGORITHMS = ("ES256", "RS256", "PS256", "EdDSA", "Ed25519")

#: How far a proof's `iat` may lie from our clock, either way, unless DPOP_IAT_WINDOW_SECONDS says
#: otherwise. A proof is made for one request just before it is sent, so its age is the client's clock
#: skew plus the time in flight; 60 s covers the skew NTP-less devices show and keeps the replay table
#: (which must remember a proof for as long as it would be accepted) small. RFC 9449 section 11.1 asks
#: for "a relatively short window" of seconds to minutes.
DEFAULT_IAT_WINDOW_SECONDS = 60

#: Longest DPoP header read at all: a proof with an RSA-4096 key is about 1.5 KB.
MAX_PROOF_LENGTH = 8_192
#: Longest `jti` kept: it is half the replay table's key. RFC 9449 asks for 96 bits of randomness.
MAX_JTI_LENGTH = 256

_COMPACT_JWS = re.compile(r"[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+")

#: RFC 7638 section 3.2: the required members of each key type, in the lexicographic order hashed.
_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}


class ProofRules(NamedTuple):
    """What a proof must satisfy here, read once from the settings."""

    algorithms: frozenset[str] = frozenset(DEFAULT_PROOF_ALGORITHMS)
    iat_window: int = DEFAULT_IAT_WINDOW_SECONDS


class VerifiedProof(NamedTuple):
    jti: str
    #: The RFC 7638 SHA-256 thumbprint of the proof's key: what a bound token's `cnf.jkt` must equal.
    thumbprint: str
    issued_at: float
    #: Until when (seconds since 1970) the proof could still be accepted: the replay store keeps it so long.
    acceptable_until: float


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638: base64url(SHA-256) of the key's required members, sorted, with no whitespace."""
    members = _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None or not all(isinstance(jwk.get(name), str) for name in members):
        raise TokenRejected(Reason.DPOP_INVALID_KEY, "the jwk lacks its type's required members")
    canonical = json.dumps({name: jwk[name] for name in members}, separators=(",", ":"), sort_keys=True)
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def access_token_hash(access_token: str) -> str:
    """RFC 9449 section 4.2 `ath`: base64url(SHA-256) of the ASCII access token."""
    return b64url(hashlib.sha256(access_token.encode("ascii")).digest())


@functools.lru_cache(maxsize=1_024)
def normalize_url(url: str) -> str:
    """The URL as RFC 3986 section 6 compares it, without query and fragment (RFC 9449 section 4.3 9).

    Syntax-based: scheme and host in lower case, percent-encodings in upper case and decoded where they
    stand for an unreserved character, dot segments removed. Scheme-based: the default port dropped, an
    empty path read as "/". Anything that is not an absolute http(s) URL raises ValueError.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname or parts.username or parts.password:
        raise ValueError("not an absolute http(s) URL")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port  # ValueError for a port that is not a number in range
    authority = host if port is None or port == (443 if scheme == "https" else 80) else f"{host}:{port}"
    return f"{scheme}://{authority}{_normalize_path(parts.path)}"


_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _normalize_path(path: str) -> str:
    def percent(match: re.Match[str]) -> str:
        character = unquote(match.group(0))
        return character if character in _UNRESERVED else match.group(0).upper()

    path = _PERCENT.sub(percent, path) or "/"
    # RFC 3986 section 5.2.4, on the segments
    output: list[str] = []
    segments = path.split("/")[1:] if path.startswith("/") else path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if output:
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/" + "/".join(output)


def decode_proof(proof: str) -> UnverifiedToken:
    """The proof's header and claims, unverified: one bounded compact JWS of JSON objects."""
    if len(proof) > MAX_PROOF_LENGTH:
        raise TokenRejected(Reason.DPOP_MALFORMED_PROOF, f"over {MAX_PROOF_LENGTH} characters")
    if _COMPACT_JWS.fullmatch(proof) is None:
        raise TokenRejected(Reason.DPOP_MALFORMED_PROOF, "not one compact JWS")
    try:
        return decode_unverified(proof)
    except TokenRejected as rejection:
        raise TokenRejected(Reason.DPOP_MALFORMED_PROOF, rejection.detail) from None


def verify_proof(
    proof: str,
    *,
    method: str,
    url: str,
    access_token: str | None,
    now: float,
    rules: ProofRules,
) -> VerifiedProof:
    """RFC 9449 section 4.3, checks 2 to 12 (the caller saw to check 1, exactly one DPoP header, and to
    the replay store), for a proof sent with `access_token` on a `method` request to `url`.

    `access_token` None: a proof sent to a token endpoint (section 5), which has no `ath` to check.
    """
    unverified = decode_proof(proof)
    header, claims = unverified.header, unverified.claims
    # 4: typ
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in PROOF_TYPES:
        raise TokenRejected(Reason.DPOP_INVALID_TYP, f"typ {str(typ)[:32]!r} is not dpop+jwt")
    # 5: an asymmetric alg we allow (never none, never HS*: neither is ever in the list)
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in rules.algorithms:
        raise TokenRejected(Reason.DPOP_ALGORITHM_NOT_ALLOWED, f"alg {str(algorithm)[:32]!r}")
    if "crit" in header or "b64" in header:
        raise TokenRejected(Reason.DPOP_MALFORMED_PROOF, "critical header extensions are not supported")
    # 7 and 6: a public key only, and the signature verifies with it
    thumbprint, key = _cached_proof_key(proof[: proof.index(".")], algorithm, header.get("jwk"))
    if not key.verify(algorithm, unverified.signing_input, unverified.signature):
        raise TokenRejected(Reason.DPOP_INVALID_SIGNATURE)
    # 3: the claims it must carry, each of its type
    jti = _string_claim(claims, "jti")
    if len(jti) > MAX_JTI_LENGTH:
        raise TokenRejected(Reason.DPOP_MISSING_CLAIM, f"jti longer than {MAX_JTI_LENGTH} characters")
    # 8: htm, the method, exactly (RFC 9110 method names are case-sensitive)
    if _string_claim(claims, "htm") != method:
        raise TokenRejected(Reason.DPOP_HTM_MISMATCH, f"htm {str(claims['htm'])[:16]!r}, request {method}")
    # 9: htu, the URL called, after normalization, ignoring query and fragment
    htu = _string_claim(claims, "htu")
    try:
        proof_url = normalize_url(htu)
    except ValueError:
        raise TokenRejected(Reason.DPOP_HTU_MISMATCH, f"htu {htu[:200]!r} is not an http(s) URL") from None
    if proof_url != normalize_url(url):
        raise TokenRejected(Reason.DPOP_HTU_MISMATCH, f"htu {proof_url[:200]!r}, request {url[:200]!r}")
    # 11: iat within the window, either way
    issued_at = claims.get("iat")
    if isinstance(issued_at, bool) or not isinstance(issued_at, (int, float)) or not math.isfinite(issued_at):
        raise TokenRejected(Reason.DPOP_MISSING_CLAIM, "iat is not a JSON number")
    if abs(now - issued_at) > rules.iat_window:
        raise TokenRejected(
            Reason.DPOP_IAT_OUT_OF_WINDOW, f"iat {issued_at} is {now - issued_at:.0f} s from now"
        )
    # 12: ath, the hash of the access token sent with it
    if access_token is not None and _string_claim(claims, "ath") != access_token_hash(access_token):
        raise TokenRejected(Reason.DPOP_ATH_MISMATCH)
    # 10 (nonce): this resource server never issues a DPoP-Nonce (API Gateway cannot send one per request,
    # docs/dpop.md), so a nonce the proof carries was asked for by someone else and means nothing here.
    return VerifiedProof(jti, thumbprint, float(issued_at), float(issued_at) + rules.iat_window)


#: Proof keys parsed before, by proof header and alg: a client signs every proof with one key, so its
#: proofs share one header. Bounded; a header whose key is refused is never kept.
MAX_PROOF_KEYS = 256
_proof_keys: dict[tuple[str, str], tuple[str, Any]] = {}
_proof_keys_lock = threading.Lock()


def _cached_proof_key(header_segment: str, algorithm: str, jwk: object) -> tuple[str, Any]:
    found = _proof_keys.get((header_segment, algorithm))
    if found is None:
        found = _proof_key(jwk, algorithm)
        with _proof_keys_lock:
            while len(_proof_keys) >= MAX_PROOF_KEYS:
                del _proof_keys[next(iter(_proof_keys))]  # the oldest: dicts keep insertion order
            _proof_keys[(header_segment, algorithm)] = found
    return found


def clear_caches() -> None:
    """Forget the parsed proof keys and normalized URLs (tests, and a reset as a cold start would)."""
    with _proof_keys_lock:
        _proof_keys.clear()
    normalize_url.cache_clear()


def _proof_key(jwk: object, algorithm: str) -> tuple[str, Any]:
    if not isinstance(jwk, dict):
        raise TokenRejected(Reason.DPOP_INVALID_KEY, "the header has no jwk object")
    # RFC 7518 section 6: the private members of each key type. keys.py refuses "d"; the rest are RSA's.
    if any(member in jwk for member in ("d", "p", "q", "dp", "dq", "qi", "oth", "k")):
        raise TokenRejected(Reason.DPOP_INVALID_KEY, "the jwk carries private key material")
    # Imported here: settings and the token cache import this module before PyJWT is loaded (the cold
    # start fetches keys meanwhile, authorizer_handler.py); by the first proof it is.
    from .keys import parse_jwk

    try:
        key = parse_jwk({**jwk, "kid": "dpop-proof"}, frozenset({algorithm}))
    except ValueError as problem:
        raise TokenRejected(Reason.DPOP_INVALID_KEY, str(problem)[:200]) from None
    return jwk_thumbprint(jwk), key


def _string_claim(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise TokenRejected(Reason.DPOP_MISSING_CLAIM, f"{name} is missing or not a string")
    return value


class Confirmation(NamedTuple):
    """A token's `cnf` claim (RFC 7800), as far as this authorizer binds: a DPoP key or a certificate."""

    #: RFC 9449 section 6.1: the thumbprint of the key the token is bound to.
    jkt: str | None = None
    #: RFC 8705 section 3.1: the SHA-256 thumbprint of the client certificate the token is bound to.
    x5t_s256: str | None = None


UNBOUND = Confirmation()


def confirmation_of(claims: Mapping[str, Any]) -> Confirmation:
    """The token's binding; a `cnf` of the wrong shape is refused rather than read as no binding."""
    cnf = claims.get("cnf")
    if cnf is None:
        return UNBOUND
    if not isinstance(cnf, dict):
        raise TokenRejected(Reason.INVALID_CNF, "cnf is not a JSON object")
    bound = Confirmation(cnf.get("jkt"), cnf.get("x5t#S256"))
    for name, value in zip(("jkt", "x5t#S256"), bound, strict=True):
        if value is not None and (not isinstance(value, str) or not value):
            raise TokenRejected(Reason.INVALID_CNF, f"cnf.{name} is not a non-empty string")
    return bound


def check_key_binding(confirmation: Confirmation, proof: VerifiedProof) -> None:
    """RFC 9449 section 4.3 check 12 / section 6: the token names the key that signed the proof."""
    if confirmation.jkt is None:
        raise TokenRejected(Reason.DPOP_TOKEN_NOT_BOUND, "the token has no cnf.jkt")
    if confirmation.jkt != proof.thumbprint:
        raise TokenRejected(Reason.DPOP_KEY_MISMATCH)


def check_certificate_binding(confirmation: Confirmation, certificate_thumbprint: str | None) -> None:
    """RFC 8705 section 3: a token bound to a certificate is good only over TLS with that certificate."""
    if confirmation.x5t_s256 is None:
        return
    if certificate_thumbprint is None:
        raise TokenRejected(Reason.CERTIFICATE_MISSING)
    if certificate_thumbprint != confirmation.x5t_s256:
        raise TokenRejected(Reason.CERTIFICATE_MISMATCH)
