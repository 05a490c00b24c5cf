"""A differential test: the authorizer against PyJWT, on every provider's token shape and its mutations.

Whatever the authorizer allows, PyJWT's `jwt.decode` with the equivalent strict options accepts too
(`tests/support/differential.py` says what "equivalent" means); every real provider's shape is allowed,
with its scopes read; and where the authorizer refuses a token PyJWT accepts, the reason is one of the
deliberate differences listed here and in docs/security.md. The corpus is a catalogue (each shape as
issued, and each single change to its claims, header, encoding or signature) plus hypothesis, which
combines several changes and draws odd values.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devkit.tokens import REMOVE
from jwt_authorizer import is_cognito_issuer
from tests.support.differential import ENCODINGS, SIDES, SIGNATURES, SPELLINGS, Recipe, forge
from tests.support.providers import NOW, PROVIDER_SHAPES, ProviderShape, authorize

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]

#: Where the authorizer is deliberately stricter than PyJWT: its reason for refusing a token PyJWT accepts,
#: and why. docs/security.md lists the same reasons ("Stricter than PyJWT").
DELIBERATE_DIFFERENCES = {
    "malformed_header": "the Authorization value must be `Bearer` and a compact JWS of unpadded base64url:"
    " PyJWT accepts `=` padding",
    "malformed_token": "header and payload must be UTF-8 JSON objects without a byte-order mark, duplicate"
    " member names, NaN or infinities, nested at most 32 deep: PyJWT's json.loads accepts all of these"
    " (the last duplicate wins, UTF-16 and UTF-32 are detected)",
    "token_too_large": "the Authorization value is at most 12 KiB; PyJWT has no limit",
    "invalid_exp": "exp must be a JSON number from 0 to 9999-12-31: PyJWT reads anything int() takes"
    " (a numeric string, true) and any size",
    "invalid_nbf": "nbf: as exp",
    "invalid_iat": "iat: as exp",
    "missing_sub": "sub must be non-empty (it is the principalId); PyJWT accepts an empty string",
    "unsupported_header": "crit and b64 are refused whatever they say; PyJWT supports b64: false (RFC 7797)",
    "invalid_scope_claim": "scope, scp and SCOPE_CLAIMS claims must be strings or arrays of strings;"
    " PyJWT does not read scopes",
    "invalid_token_use": "a token_use not in TOKEN_USE (an ID token) is refused; PyJWT does not read it",
    "invalid_typ": "with REQUIRE_AT_JWT_TYP, typ must be at+jwt; PyJWT does not check typ",
    "invalid_audience (Cognito)": "a Cognito token without aud (an access token) must carry an accepted"
    " client_id; PyJWT has no client_id check",
}

_Value = Callable[[ProviderShape], Any]


def _same(value: Any) -> _Value:
    return lambda shape: value


def _claim(name: str, change: Callable[[Any], Any]) -> _Value:
    return lambda shape: change(shape.claims.get(name))


def _audience(shape: ProviderShape) -> str:
    return shape.env["AUDIENCE"]


_DATES = [REMOVE, None, True, False, "1800000300", -1, 0, 10**13, 253_402_300_800, 1e300, [NOW + 300]]
#: For each claim, the values tried in its place (REMOVE: the claim left out).
CLAIM_CHANGES: dict[str, list[_Value]] = {
    "exp": [
        *map(_same, _DATES),
        *(_same(NOW + offset) for offset in (-31, -30.5, -30, -29.5, -29, 0.5, 1)),
    ],
    "nbf": [*map(_same, _DATES), *(_same(NOW + offset) for offset in (29, 30, 30.5, 31, 31.5))],
    "iat": [*map(_same, _DATES), *(_same(NOW + offset) for offset in (29, 30, 30.5, 31, 31.5))],
    "iss": [
        *map(_same, [REMOVE, None, 7, "https://evil.example.com"]),
        _claim("iss", lambda iss: [iss]),
        _claim("iss", lambda iss: iss + "/"),
        _claim("iss", lambda iss: iss.upper()),
        _claim("iss", lambda iss: f" {iss}"),
    ],
    "aud": [
        *map(_same, [REMOVE, None, "", [], 7, True, ["api://other"]]),
        lambda shape: ["api://other", _audience(shape)],
        lambda shape: [_audience(shape), 7],
        lambda shape: {_audience(shape): True},
        lambda shape: _audience(shape).upper(),
        _audience,
    ],
    "sub": [*map(_same, [REMOVE, None, "", 7, True, ["alice"], {"id": "alice"}, "al\u0000ice é"])],
    "jti": [*map(_same, [REMOVE, None, "", 7, True, ["a"], {"a": 1}, "j" * 300])],
    "scope": [*map(_same, [REMOVE, None, "", "a  b", ["a", "b"], [], ["a", 7], 7, {"a": True}, True])],
    "scp": [*map(_same, [None, "a b", ["a", "b"], ["a", None], 7])],
    "client_id": [*map(_same, [REMOVE, None, 7, "another-client", ["client"]])],
    "token_use": [*map(_same, [REMOVE, None, "access", "id", "refresh", 7])],
    "x-extra": [
        *map(_same, [None, 1e308, -0.0, 2**64, 10**400, "\ud800", "😀", {"a": [1, {"b": None}]}, [[[]]], ""])
    ],
}

_ATTACKER_JWK = {"kty": "RSA", "n": "sXch", "e": "AQAB"}
#: For each header member, the values tried in its place.
HEADER_CHANGES: dict[str, list[Any]] = {
    "alg": [
        *("none", "None", "HS256", "RS512", "rs256", "RS256", "PS256", "ES256", "EdDSA", "Ed25519", "Ed448"),
        REMOVE,
        None,
        7,
        ["RS256"],
    ],
    "kid": [REMOVE, None, "", 7, "unknown", "k" * 300, "rsa-noalg", ["rsa-1"]],
    "typ": [REMOVE, None, 7, "JWT", "at+jwt", "application/at+jwt", "AT+JWT", "Bearer"],
    "crit": [["exp"], [], "b64", ["b64"], None],
    "b64": [False, True],
    "jku": ["https://evil.example.com/jwks.json"],
    "x5u": ["https://evil.example.com/cert.pem"],
    "jwk": [_ATTACKER_JWK],
    "x5c": [["MIIBszCCAVmgAwIBAgIU"]],
    "zip": ["DEF"],
    "cty": ["JWT"],
    "enc": ["A256GCM"],
}


#: Changes that matter most to some shapes are always tried on them too.
_FOCUS = {
    "aud": ("Cognito access token", "Cognito ID token"),
    "client_id": ("Cognito access token", "Cognito ID token"),
    "token_use": ("Cognito access token", "Cognito ID token"),
    "typ": ("RFC 9068 with Ed25519",),
}
#: Each single change is tried on this many shapes (in turn, so every shape gets its share).
SHAPES_PER_CHANGE = 4


def _shapes_for(index: int, name: str) -> list[ProviderShape]:
    count = len(PROVIDER_SHAPES)
    chosen = {(index + step * (count // SHAPES_PER_CHANGE)) % count for step in range(SHAPES_PER_CHANGE)}
    chosen |= {at for at, shape in enumerate(PROVIDER_SHAPES) if shape.name in _FOCUS.get(name, ())}
    return [PROVIDER_SHAPES[at] for at in sorted(chosen)]


def _catalogue() -> Iterator[tuple[Recipe, str]]:
    """Each shape as issued, in every encoding, spelling and signature; each single change on a few shapes."""
    for shape in PROVIDER_SHAPES:
        yield Recipe.of(shape), "canonical"
        for encoding in ENCODINGS:
            if encoding != "compact":
                recipe = Recipe.of(shape)
                recipe.encoding = encoding
                recipe.changes.append(encoding)
                yield recipe, "canonical"
        for spelling in SPELLINGS[1:]:
            recipe = Recipe.of(shape)
            recipe.changes.append(spelling)
            yield recipe, spelling
        for signature in SIGNATURES[1:]:
            recipe = Recipe.of(shape)
            recipe.signature = signature
            recipe.changes.append(f"signature {signature}")
            yield recipe, "canonical"
    index = 0
    for name, values in CLAIM_CHANGES.items():
        for value in values:
            index += 1
            for shape in _shapes_for(index, name):
                recipe = Recipe.of(shape)
                recipe.claims[name] = value(shape)
                recipe.changes.append(f"{name} {recipe.claims[name]!r:.40}")
                yield recipe, "canonical"
    for name, header_values in HEADER_CHANGES.items():
        for header_value in header_values:
            index += 1
            for shape in _shapes_for(index, name):
                recipe = Recipe.of(shape)
                recipe.header[name] = header_value
                recipe.changes.append(f"header {name} {header_value!r:.40}")
                yield recipe, "canonical"


def _difference(recipe: Recipe, ours: str) -> str:
    cognito = is_cognito_issuer(recipe.shape.issuer)
    return f"{ours} (Cognito)" if ours == "invalid_audience" and cognito else ours


def compare(recipe: Recipe, spelling: str) -> tuple[str | None, str | None]:
    """Both verdicts on the recipe's token; fails if the authorizer allows what PyJWT refuses, or refuses
    what PyJWT accepts for a reason that is not a deliberate difference."""
    token = forge(recipe, spelling)
    side = SIDES[recipe.shape.name]
    ours, theirs = side.authorizer_refusal(token), side.pyjwt_refusal(token)
    if ours is None:
        assert theirs is None, f"allowed, but PyJWT refuses ({theirs}): {recipe.describe()}"
    elif theirs is None:
        difference = _difference(recipe, ours)
        assert difference in DELIBERATE_DIFFERENCES, f"{difference}, PyJWT accepts: {recipe.describe()}"
    return ours, theirs


CATALOGUE = list(_catalogue())


def test_the_catalogue_agrees_with_pyjwt_but_for_the_deliberate_differences() -> None:
    verdicts: Counter[tuple[bool, bool]] = Counter()
    differences: Counter[str] = Counter()
    for recipe, spelling in CATALOGUE:
        ours, theirs = compare(recipe, spelling)
        verdicts[(ours is None, theirs is None)] += 1
        if ours is not None and theirs is None:
            differences[_difference(recipe, ours)] += 1
    # Both verdicts occur, so the corpus reaches both sides of every check
    assert verdicts[(True, True)] >= len(PROVIDER_SHAPES)
    assert verdicts[(False, False)] > len(CATALOGUE) // 3
    # Every deliberate difference is reached by the catalogue (so the list holds nothing stale)
    assert set(differences) == set(DELIBERATE_DIFFERENCES)


@pytest.mark.parametrize("shape", PROVIDER_SHAPES, ids=lambda shape: shape.name)
def test_each_provider_shape_is_allowed_with_its_scopes_and_pyjwt_agrees(shape: ProviderShape) -> None:
    token = forge(Recipe.of(shape))
    result = authorize(SIDES[shape.name].service, token)
    assert (result["principalId"], json.loads(result["context"]["scopes"])) == (
        shape.claims["sub"],
        list(shape.scopes),
    )
    assert SIDES[shape.name].pyjwt_refusal(token) is None


def _odd_values(name: str) -> st.SearchStrategy[Any]:
    if name in {"exp", "nbf", "iat"}:
        # Around now, the leeway boundaries and beyond, in whole and fractional seconds
        return st.one_of(st.integers(NOW - 400, NOW + 400), st.floats(NOW - 400, NOW + 400, allow_nan=False))
    json_scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False),
        st.text(max_size=8),
    )
    return st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3), max_leaves=6)


# Built once: hypothesis validates a strategy the first time it draws from it.
_CLAIM_NAMES = st.lists(st.sampled_from(sorted(CLAIM_CHANGES)), max_size=3, unique=True)
_CLAIM_VALUES = {
    name: st.one_of(st.sampled_from(values), _odd_values(name).map(_same))
    for name, values in CLAIM_CHANGES.items()
}
_HEADER_NAMES = st.lists(st.sampled_from(sorted(HEADER_CHANGES)), max_size=2, unique=True)
_HEADER_VALUES = {name: st.sampled_from(values) for name, values in HEADER_CHANGES.items()}
# Mostly as issued, so that the other changes are not all masked by a broken encoding or signature
_ENCODINGS = st.sampled_from(["compact"] * 6 + sorted(ENCODINGS))
_SIGNATURES = st.sampled_from(["valid"] * 6 + list(SIGNATURES))
_SPELLINGS = st.sampled_from(["canonical"] * 6 + list(SPELLINGS))


@st.composite
def recipes(draw: st.DrawFn) -> tuple[Recipe, str]:
    """A shape with up to three claim changes and two header changes, any encoding, spelling, signature."""
    recipe = Recipe.of(draw(st.sampled_from(PROVIDER_SHAPES)))
    for name in draw(_CLAIM_NAMES):
        recipe.claims[name] = draw(_CLAIM_VALUES[name])(recipe.shape)
        recipe.changes.append(f"{name} {recipe.claims[name]!r:.40}")
    for name in draw(_HEADER_NAMES):
        recipe.header[name] = draw(_HEADER_VALUES[name])
        recipe.changes.append(f"header {name} {recipe.header[name]!r:.40}")
    recipe.encoding, recipe.signature, spelling = draw(_ENCODINGS), draw(_SIGNATURES), draw(_SPELLINGS)
    recipe.changes.extend([recipe.encoding, recipe.signature, spelling])
    return recipe, spelling


MAX_EXAMPLES = 200


@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(recipes())
def test_any_combination_of_changes_agrees_with_pyjwt_but_for_the_deliberate_differences(
    case: tuple[Recipe, str],
) -> None:
    compare(*case)


def test_docs_give_the_size_of_the_corpus() -> None:
    security = (ROOT / "docs" / "security.md").read_text()
    assert f"({len(CATALOGUE)} tokens), plus {MAX_EXAMPLES} hypothesis examples" in security


def test_docs_list_every_deliberate_difference() -> None:
    section = (ROOT / "docs" / "security.md").read_text().split("### Stricter than PyJWT", 1)[1]
    first_cells = re.findall(r"^\| ([^|]+) \|", section.split("\n### ", 1)[0], re.MULTILINE)
    listed = {reason for cell in first_cells for reason in re.findall(r"`([^`]+)`", cell)}
    assert listed == set(DELIBERATE_DIFFERENCES)
