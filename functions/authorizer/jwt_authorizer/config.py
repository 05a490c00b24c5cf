"""Settings read from the environment once per cold start, validated, and frozen."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from route_table import RouteTable, RouteTableError

from .errors import ConfigurationError
from .sender import SenderSettings
from .urls import LOOPBACK_ONLY, PlainHttp, url_problem

#: Asymmetric JWS algorithms the authorizer can verify. Symmetric (HS*) and `none` are never accepted.
#: Ed25519 is RFC 9864's fully specified name for EdDSA on an Ed25519 key; EdDSA (deprecated by RFC 9864
#: but what providers still write) verifies Ed25519 and Ed448 keys.
SUPPORTED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"}
)
#: Names the authorizer knows but does not accept, and why.
_UNSUPPORTED_ALGORITHMS = {
    "Ed448": "no provider signs access tokens with it and PyJWT does not know the name;"
    " EdDSA verifies Ed448 keys",
}

DEFAULT_ALGORITHMS = ("RS256",)
DEFAULT_LEEWAY_SECONDS = 30
DEFAULT_JWKS_CACHE_SECONDS = 600
DEFAULT_JWKS_COOLDOWN_SECONDS = 30
DEFAULT_JWKS_MAX_STALE_SECONDS = 86_400
#: Amazon Cognito's `token_use` values; only access tokens are accepted unless TOKEN_USE says otherwise.
TOKEN_USES = frozenset({"access", "id"})
DEFAULT_TOKEN_USES = frozenset({"access"})
MAX_SCOPE_CLAIMS = 16
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
#: Verified tokens remembered by a warm function (0 turns the cache off); a few hundred bytes each.
DEFAULT_VERIFIED_TOKEN_CACHE_SIZE = 1_000


@dataclass(frozen=True)
class Settings:
    issuers: tuple[str, ...]
    audiences: frozenset[str]
    jwks_uri: str | None = None
    routes: RouteTable = field(default_factory=RouteTable)
    algorithms: frozenset[str] = frozenset(DEFAULT_ALGORITHMS)
    leeway_seconds: int = DEFAULT_LEEWAY_SECONDS
    jwks_cache_seconds: int = DEFAULT_JWKS_CACHE_SECONDS
    jwks_cooldown_seconds: int = DEFAULT_JWKS_COOLDOWN_SECONDS
    jwks_max_stale_seconds: int = DEFAULT_JWKS_MAX_STALE_SECONDS
    #: Per-issuer audiences; an issuer listed here accepts these instead of `audiences`.
    issuer_audiences: Mapping[str, frozenset[str]] = field(default_factory=dict)
    token_uses: frozenset[str] = DEFAULT_TOKEN_USES
    require_at_jwt_typ: bool = False
    #: Claims whose values count as scopes too (roles, permissions, groups), as in SCOPE_CLAIMS.
    scope_claims: tuple[str, ...] = ()
    verified_token_cache_size: int = DEFAULT_VERIFIED_TOKEN_CACHE_SIZE
    #: Fetch every issuer's keys in the background from the start of init (JWKS_PREFETCH, default true).
    jwks_prefetch: bool = True
    #: The hosts plain http may reach (ISSUER, JWKS_URI and the URLs discovery names): given by whoever
    #: starts the authorizer, not read from the environment.
    plain_http: PlainHttp = LOOPBACK_ONLY
    #: DPoP and certificate-bound tokens: DPOP and its companions (sender.py).
    sender: SenderSettings = field(default_factory=SenderSettings)

    def audiences_for(self, issuer: str) -> frozenset[str]:
        return self.issuer_audiences.get(issuer, self.audiences)

    @classmethod
    def from_env(cls, env: Mapping[str, str], plain_http: PlainHttp = LOOPBACK_ONLY) -> Settings:
        issuers = _parse_issuers(env.get("ISSUER", ""), plain_http)
        jwks_uri = env.get("JWKS_URI", "").strip() or None
        if jwks_uri is not None:
            if len(issuers) > 1:
                raise ConfigurationError("JWKS_URI", "can only be set with a single ISSUER")
            problem = url_problem(jwks_uri, plain_http)
            if problem:
                raise ConfigurationError("JWKS_URI", f"{jwks_uri!r} {problem}")
        issuer_audiences = _parse_issuer_audiences(env.get("ISSUER_AUDIENCES", ""), issuers)
        return cls(
            issuers=issuers,
            audiences=_parse_audiences(
                env.get("AUDIENCE", ""), required=not set(issuers) <= issuer_audiences.keys()
            ),
            issuer_audiences=issuer_audiences,
            token_uses=_parse_token_uses(env.get("TOKEN_USE", "")),
            require_at_jwt_typ=_parse_boolean(env, "REQUIRE_AT_JWT_TYP"),
            scope_claims=_parse_scope_claims(env.get("SCOPE_CLAIMS", "")),
            jwks_uri=jwks_uri,
            routes=_parse_route_scopes(env.get("ROUTE_SCOPES", "")),
            algorithms=_parse_algorithms(env.get("ALGORITHMS", "")),
            leeway_seconds=_int_in_range(env, "LEEWAY_SECONDS", DEFAULT_LEEWAY_SECONDS, 0, 300),
            jwks_cache_seconds=_int_in_range(
                env, "JWKS_CACHE_SECONDS", DEFAULT_JWKS_CACHE_SECONDS, 1, 86_400
            ),
            jwks_cooldown_seconds=_int_in_range(
                env, "JWKS_COOLDOWN_SECONDS", DEFAULT_JWKS_COOLDOWN_SECONDS, 0, 3_600
            ),
            jwks_max_stale_seconds=_int_in_range(
                env, "JWKS_MAX_STALE_SECONDS", DEFAULT_JWKS_MAX_STALE_SECONDS, 0, 7 * 86_400
            ),
            verified_token_cache_size=_int_in_range(
                env, "VERIFIED_TOKEN_CACHE_SIZE", DEFAULT_VERIFIED_TOKEN_CACHE_SIZE, 0, 100_000, "entries"
            ),
            jwks_prefetch=_parse_boolean(env, "JWKS_PREFETCH", default=True),
            plain_http=plain_http,
            sender=SenderSettings.from_env(env),
        )


def _split_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _parse_issuers(raw: str, plain_http: PlainHttp) -> tuple[str, ...]:
    issuers = _split_list(raw)
    if not issuers:
        raise ConfigurationError("ISSUER", "is required: the issuer URL of your OpenID provider")
    for issuer in issuers:
        problem = url_problem(issuer, plain_http)
        if problem:
            raise ConfigurationError("ISSUER", f"{issuer!r} {problem}")
        if urlsplit(issuer).query:
            raise ConfigurationError("ISSUER", f"{issuer!r} must not have a query string")
    if len(set(issuers)) != len(issuers):
        raise ConfigurationError("ISSUER", "lists the same issuer twice")
    return tuple(issuers)


def _parse_audiences(raw: str, required: bool = True) -> frozenset[str]:
    audiences = _split_list(raw)
    if not audiences and required:
        raise ConfigurationError(
            "AUDIENCE",
            "is required: the audience (or client id) your tokens are issued for, unless"
            " ISSUER_AUDIENCES gives every issuer its own",
        )
    return frozenset(audiences)


def _parse_issuer_audiences(raw: str, issuers: tuple[str, ...]) -> dict[str, frozenset[str]]:
    """ISSUER_AUDIENCES: a JSON object of issuer to its audience (a string or a list of strings)."""
    if not raw.strip():
        return {}
    name = "ISSUER_AUDIENCES"
    try:
        table = json.loads(raw)
    except ValueError as error:
        raise ConfigurationError(name, f"is not valid JSON ({error})") from None
    if not isinstance(table, dict):
        raise ConfigurationError(name, 'must be a JSON object like {"https://issuer": ["audience"]}')
    result = {}
    for issuer, audiences in table.items():
        if issuer not in issuers:
            raise ConfigurationError(name, f"{issuer!r} is not one of the issuers in ISSUER")
        listed = [audiences] if isinstance(audiences, str) else audiences
        if (
            not isinstance(listed, list)
            or not listed
            or not all(isinstance(audience, str) and audience.strip() for audience in listed)
        ):
            raise ConfigurationError(
                name, f"{issuer!r} must map to an audience or a non-empty list of audiences"
            )
        result[issuer] = frozenset(audience.strip() for audience in listed)
    return result


def _parse_token_uses(raw: str) -> frozenset[str]:
    uses = _split_list(raw)
    for use in uses:
        if use not in TOKEN_USES:
            raise ConfigurationError("TOKEN_USE", f"{use!r} is not one of: access, id")
    return frozenset(uses) or DEFAULT_TOKEN_USES


def _parse_boolean(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in _BOOLEANS:
        raise ConfigurationError(name, f"{raw!r} is not true or false")
    return _BOOLEANS[raw]


def _parse_scope_claims(raw: str) -> tuple[str, ...]:
    names = list(dict.fromkeys(_split_list(raw)))
    if len(names) > MAX_SCOPE_CLAIMS:
        raise ConfigurationError("SCOPE_CLAIMS", f"names more than {MAX_SCOPE_CLAIMS} claims")
    for name in names:
        if any(character.isspace() for character in name) or "" in name.split("."):
            raise ConfigurationError(
                "SCOPE_CLAIMS",
                f"{name!r} is not a claim name or dotted path like realm_access.roles",
            )
    return tuple(names)


def _parse_algorithms(raw: str) -> frozenset[str]:
    names = _split_list(raw) or list(DEFAULT_ALGORITHMS)
    for name in names:
        if name in _UNSUPPORTED_ALGORITHMS:
            raise ConfigurationError(
                "ALGORITHMS", f"{name!r} is not supported: {_UNSUPPORTED_ALGORITHMS[name]}"
            )
        if name not in SUPPORTED_ALGORITHMS:
            raise ConfigurationError(
                "ALGORITHMS",
                f"{name!r} is not supported; choose from {', '.join(sorted(SUPPORTED_ALGORITHMS))}"
                " (symmetric algorithms and 'none' are never accepted)",
            )
    return frozenset(names)


def _int_in_range(
    env: Mapping[str, str], name: str, default: int, low: int, high: int, unit: str = "seconds"
) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(name, f"{raw!r} is not a whole number of {unit}") from None
    if not low <= value <= high:
        raise ConfigurationError(name, f"{value} is outside {low}..{high}")
    return value


def _parse_route_scopes(raw: str) -> RouteTable:
    try:
        return RouteTable.parse(raw)
    except RouteTableError as error:
        raise ConfigurationError("ROUTE_SCOPES", error.problem) from None
