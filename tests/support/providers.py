"""Access tokens shaped as each provider really shapes them, and an in-process way to verify them.

The claim sets follow the providers' documented access tokens: Okta's custom authorization server
(`scp` array, `cid`, `uid`, `ver` 1), Microsoft Entra ID v2 (`scp` string, `roles`, `azp`, `ver` "2.0"),
Auth0 (`scope` string, `permissions`, an `aud` array with the userinfo audience, an issuer with a
trailing slash), Keycloak (`azp`, `realm_access.roles`, `resource_access`, `typ` "Bearer"), Amazon
Cognito (`client_id` and no `aud`, `token_use`, `cognito:groups`), Spring Authorization Server (a
`scope` array, an `aud` array of the client id, `nbf`), ForgeRock AM (a `scope` array, `cts`,
`tokenName`, `realm`), Entra ID v1 (`sts.windows.net` issuer, `appid`, `ver` "1.0"), Curity (`purpose`,
`delegationId`, ES256), Ory Hydra (an `scp` array, `client_id`, `ext`), WSO2 Identity Server (`aut`,
`azp`), a Google ID token (`azp`, `email`, `at_hash`, no scope) and a generic RFC 9068 token.
`PROVIDER_SHAPES` lists them all with the configuration that trusts each and the scopes it grants.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from devkit.tokens import REMOVE, SigningKey, jwks_of
from jwt_authorizer import (
    AuthorizerService,
    CloudWatchTelemetry,
    JwksCache,
    JwksFetchError,
    ParsedJwks,
    Settings,
    TokenRejected,
    parse_jwks,
)

NOW = 1_800_000_000  # 2027-01-15T08:00:00Z
METHOD_ARN = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/messages"
STAGE = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod"

OKTA_ISSUER = "https://dev-123456.okta.com/oauth2/default"
ENTRA_TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
ENTRA_ISSUER = f"https://login.microsoftonline.com/{ENTRA_TENANT}/v2.0"
ENTRA_API_CLIENT_ID = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
AUTH0_ISSUER = "https://example-tenant.eu.auth0.com/"
KEYCLOAK_ISSUER = "https://keycloak.example.com/realms/demo"
COGNITO_ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"
COGNITO_CLIENT_ID = "4jq6l0d9lfqjg1fjsb8o2dhaq1"
GENERIC_ISSUER = "https://auth.example.com"
SPRING_ISSUER = "https://spring-auth.example.com"
SPRING_CLIENT_ID = "messaging-client"
FORGEROCK_ISSUER = "https://am.example.com/am/oauth2/realms/root/realms/alpha"
FORGEROCK_CLIENT_ID = "messages-client"
ENTRA_V1_ISSUER = f"https://sts.windows.net/{ENTRA_TENANT}/"
ENTRA_V1_AUDIENCE = "api://messages-api"
CURITY_ISSUER = "https://idsvr.example.com/oauth/v2/oauth-anonymous"
HYDRA_ISSUER = "https://hydra.example.com/"
WSO2_ISSUER = "https://wso2is.example.com/oauth2/token"
WSO2_CLIENT_ID = "Wc0X1b2Y3z4A5b6C7d8E9f0G1h2I"
GOOGLE_ISSUER = "https://accounts.google.com"
GOOGLE_CLIENT_ID = "407408718192-abc123def456.apps.googleusercontent.com"


def _without_removed(claims: dict[str, Any]) -> dict[str, Any]:
    """Pass REMOVE as an override to leave a claim out."""
    return {name: value for name, value in claims.items() if value is not REMOVE}


def okta_claims(**overrides: Any) -> dict[str, Any]:
    return _without_removed(
        {
            "ver": 1,
            "jti": "AT.n3sHJLRHhEQ4F9_8ia3iQGaRBM0X1fEcjiKkZ4dIDnE",
            "iss": OKTA_ISSUER,
            "aud": "api://default",
            "iat": NOW,
            "exp": NOW + 3600,
            "cid": "0oa1b2c3d4e5f6g7h8i9",
            "uid": "00u1a2b3c4d5e6f7g8h9",
            "scp": ["messages:read", "openid"],
            "auth_time": NOW - 60,
            "sub": "alice@example.com",
            "groups": ["Everyone", "Messaging"],
        }
        | overrides
    )


def entra_claims(**overrides: Any) -> dict[str, Any]:
    return _without_removed(
        {
            "aud": ENTRA_API_CLIENT_ID,
            "iss": ENTRA_ISSUER,
            "iat": NOW,
            "nbf": NOW,
            "exp": NOW + 3900,
            "aio": "AWQAm/8YAAAAbW9ja0F6",
            "azp": "a2b8d7c1-0c4e-4f2e-9d4e-2c3b7f1e9a10",
            "azpacr": "0",
            "name": "Alice Example",
            "oid": "0b4c5d6e-7f80-4a1b-9c2d-3e4f5a6b7c8d",
            "preferred_username": "alice@contoso.com",
            "rh": "0.AXEAv4j5cvGGr0GRqy180BHbRys",
            "roles": ["Messages.Admin"],
            "scp": "messages.read messages.write",
            "sub": "l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA",
            "tid": ENTRA_TENANT,
            "uti": "fqiBqXLPj0eQa82S-IYFAA",
            "ver": "2.0",
        }
        | overrides
    )


def auth0_claims(**overrides: Any) -> dict[str, Any]:
    return _without_removed(
        {
            "iss": AUTH0_ISSUER,
            "sub": "auth0|6515f0b2c1a4d3e2f1a0b9c8",
            "aud": ["https://api.example.com/messages", "https://example-tenant.eu.auth0.com/userinfo"],
            "iat": NOW,
            "exp": NOW + 86_400,
            "azp": "Xq8mYw4RZtC1aB2cD3eF4gH5iJ6kL7mN",
            "scope": "openid profile email",
            "permissions": ["messages:read", "messages:write"],
        }
        | overrides
    )


def keycloak_claims(**overrides: Any) -> dict[str, Any]:
    return _without_removed(
        {
            "exp": NOW + 300,
            "iat": NOW,
            "jti": "onrtac:4c4b1c9e-8f0e-4f53-9d3b-0d5b0a2f6c11",
            "iss": KEYCLOAK_ISSUER,
            "aud": ["messages-api", "account"],
            "sub": "f3c2a1b0-9e8d-4c7b-a6f5-e4d3c2b1a098",
            "typ": "Bearer",
            "azp": "messages-client",
            "sid": "a6c1f0e2-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
            "acr": "1",
            "allowed-origins": ["https://app.example.com"],
            "realm_access": {"roles": ["offline_access", "uma_authorization", "messages-admin"]},
            "resource_access": {"account": {"roles": ["manage-account", "view-profile"]}},
            "scope": "openid profile email",
            "email_verified": True,
            "preferred_username": "alice",
        }
        | overrides
    )


def cognito_access_claims(**overrides: Any) -> dict[str, Any]:
    return _without_removed(
        {
            "sub": "8b3c9f3e-1d2a-4f5b-8c6d-7e8f9a0b1c2d",
            "cognito:groups": ["admins", "readers"],
            "iss": COGNITO_ISSUER,
            "version": 2,
            "client_id": COGNITO_CLIENT_ID,
            "origin_jti": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "event_id": "1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809",
            "token_use": "access",
            "scope": "messages:read",
            "auth_time": NOW - 10,
            "exp": NOW + 3600,
            "iat": NOW,
            "jti": "9f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0",
            "username": "alice",
        }
        | overrides
    )


def cognito_id_claims(**overrides: Any) -> dict[str, Any]:
    return _without_removed(
        {
            "sub": "8b3c9f3e-1d2a-4f5b-8c6d-7e8f9a0b1c2d",
            "cognito:groups": ["admins"],
            "email_verified": True,
            "iss": COGNITO_ISSUER,
            "cognito:username": "alice",
            "origin_jti": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "aud": COGNITO_CLIENT_ID,
            "event_id": "1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809",
            "token_use": "id",
            "auth_time": NOW - 10,
            "exp": NOW + 3600,
            "iat": NOW,
            "jti": "2a3b4c5d-6e7f-8091-a2b3-c4d5e6f70819",
            "email": "alice@example.com",
        }
        | overrides
    )


def generic_claims(**overrides: Any) -> dict[str, Any]:
    return _without_removed(
        {
            "iss": GENERIC_ISSUER,
            "exp": NOW + 600,
            "aud": "https://api.example.com",
            "sub": "5ba552d67",
            "client_id": "s6BhdRkqt3",
            "iat": NOW,
            "jti": "dbe39bf3a3ba4238a513f51d6e1691c4",
            "scope": "messages:read",
        }
        | overrides
    )


def spring_claims(**overrides: Any) -> dict[str, Any]:
    # JwtGenerator: the authorized scopes as a JSON array, the client id as a one-element `aud` array.
    return _without_removed(
        {
            "sub": "alice",
            "aud": [SPRING_CLIENT_ID],
            "nbf": NOW,
            "scope": ["messages:read", "openid"],
            "iss": SPRING_ISSUER,
            "exp": NOW + 300,
            "iat": NOW,
            "jti": "4b3e1b2c-6f0a-4c1e-9d7a-5e2f8c9b0a11",
        }
        | overrides
    )


def forgerock_claims(**overrides: Any) -> dict[str, Any]:
    # AM's stateless (JWT) access tokens: scopes as a JSON array, the client id as a plain `aud`.
    return _without_removed(
        {
            "sub": "alice",
            "cts": "OAUTH2_STATELESS_GRANT",
            "auth_level": 0,
            "auditTrackingId": "2f1c4c8e-7d6b-4a59-8e3f-1a2b3c4d5e6f-123456",
            "subname": "alice",
            "iss": FORGEROCK_ISSUER,
            "tokenName": "access_token",
            "token_type": "Bearer",
            "authGrantType": "authorization_code",
            "aud": FORGEROCK_CLIENT_ID,
            "nbf": NOW,
            "grant_id": "mA0c1b2d3e4f5g6h7i8j9k0l",
            "scope": ["messages:read", "profile"],
            "auth_time": NOW - 30,
            "realm": "/alpha",
            "exp": NOW + 3600,
            "iat": NOW,
            "expires_in": 3600,
            "jti": "xYz0AbC1dEf2GhI3jKl4MnO5pQr",
        }
        | overrides
    )


def entra_v1_claims(**overrides: Any) -> dict[str, Any]:
    # Entra ID's v1.0 access tokens: the sts.windows.net issuer, `appid` for the client, `ver` "1.0".
    return _without_removed(
        {
            "aud": ENTRA_V1_AUDIENCE,
            "iss": ENTRA_V1_ISSUER,
            "iat": NOW,
            "nbf": NOW,
            "exp": NOW + 4200,
            "acr": "1",
            "aio": "E2ZgYJj8a8b+",
            "amr": ["pwd", "mfa"],
            "appid": "a2b8d7c1-0c4e-4f2e-9d4e-2c3b7f1e9a10",
            "appidacr": "0",
            "family_name": "Example",
            "given_name": "Alice",
            "ipaddr": "203.0.113.7",
            "name": "Alice Example",
            "oid": "0b4c5d6e-7f80-4a1b-9c2d-3e4f5a6b7c8d",
            "rh": "0.AXEAv4j5cvGGr0GRqy180BHbRys",
            "scp": "messages.read",
            "sub": "Xk0pL2mN4oQ6rS8tU0vW2xY4zA6bC8dE0fG2hI4jK6l",
            "tid": ENTRA_TENANT,
            "unique_name": "alice@contoso.com",
            "upn": "alice@contoso.com",
            "uti": "q0vJ8Lk9m0ePq1rS2tU3AA",
            "ver": "1.0",
        }
        | overrides
    )


def curity_claims(**overrides: Any) -> dict[str, Any]:
    # Curity Identity Server's JWT access tokens: `purpose`, `delegationId`, a string `scope`.
    return _without_removed(
        {
            "jti": "1f7c8e2a-5b3d-4c9e-8a1f-2b3c4d5e6f70",
            "delegationId": "6c5b4a39-2817-4f6e-9d8c-7b6a5f4e3d2c",
            "exp": NOW + 300,
            "nbf": NOW,
            "scope": "openid messages:read",
            "iss": CURITY_ISSUER,
            "sub": "alice",
            "aud": "messages-api",
            "iat": NOW,
            "purpose": "access_token",
        }
        | overrides
    )


def hydra_claims(**overrides: Any) -> dict[str, Any]:
    # Ory Hydra's JWT access tokens: scopes as an `scp` array, `client_id`, an `ext` object.
    return _without_removed(
        {
            "aud": ["https://api.example.com/messages"],
            "client_id": "messages-client",
            "exp": NOW + 3600,
            "ext": {},
            "iat": NOW,
            "iss": HYDRA_ISSUER,
            "jti": "b5c0f9e4-2a7d-4d3e-9f1a-8c7b6a5d4e3f",
            "nbf": NOW,
            "scp": ["offline", "messages:read"],
            "sub": "alice",
        }
        | overrides
    )


def wso2_claims(**overrides: Any) -> dict[str, Any]:
    # WSO2 Identity Server's JWT access tokens: `aut` (the authorized user type), `azp`, the client as `aud`.
    return _without_removed(
        {
            "sub": "alice@carbon.super",
            "aut": "APPLICATION_USER",
            "aud": WSO2_CLIENT_ID,
            "nbf": NOW,
            "azp": WSO2_CLIENT_ID,
            "scope": "openid messages:read",
            "iss": WSO2_ISSUER,
            "exp": NOW + 3600,
            "iat": NOW,
            "jti": "e0d1c2b3-a4f5-4e6d-8c7b-9a0f1e2d3c4b",
        }
        | overrides
    )


def google_id_claims(**overrides: Any) -> dict[str, Any]:
    # A Google ID token, sent as a bearer token by APIs that accept them: the client id as `aud`, no scope.
    return _without_removed(
        {
            "iss": GOOGLE_ISSUER,
            "azp": GOOGLE_CLIENT_ID,
            "aud": GOOGLE_CLIENT_ID,
            "sub": "110169484474386276334",
            "email": "alice@example.com",
            "email_verified": True,
            "at_hash": "HK6E_P6Dh8Y93mRNtsDB1Q",
            "name": "Alice Example",
            "picture": "https://lh3.googleusercontent.com/a/default-user",
            "given_name": "Alice",
            "family_name": "Example",
            "iat": NOW,
            "exp": NOW + 3600,
        }
        | overrides
    )


@dataclass(frozen=True)
class ProviderShape:
    """One provider's token as it issues it, and the configuration that trusts it."""

    name: str
    claims: dict[str, Any]
    env: dict[str, str]  # ISSUER and AUDIENCE, and whatever else this provider needs
    key: str  # "rsa", "ec" or "ed25519": the kind of key the provider signs with
    algorithm: str
    header: dict[str, Any]  # beyond alg and kid
    #: The scopes the authorizer reads (the context's `scopes`), sorted.
    scopes: tuple[str, ...]

    @property
    def issuer(self) -> str:
        return self.env["ISSUER"]


def _shape(
    name: str,
    claims: dict[str, Any],
    audience: str,
    scopes: str,
    key: str = "rsa",
    algorithm: str = "RS256",
    typ: Any = "JWT",
    **env: str,
) -> ProviderShape:
    header = {} if typ is REMOVE else {"typ": typ}
    return ProviderShape(
        name,
        claims,
        {"ISSUER": claims["iss"], "AUDIENCE": audience, **env},
        key,
        algorithm,
        header,
        tuple(scopes.split()),
    )


PROVIDER_SHAPES = (
    _shape("Okta", okta_claims(), "api://default", "messages:read openid", typ=REMOVE),
    _shape("Entra ID v1", entra_v1_claims(), ENTRA_V1_AUDIENCE, "messages.read"),
    _shape(
        "Entra ID v2",
        entra_claims(),
        ENTRA_API_CLIENT_ID,
        "Messages.Admin messages.read messages.write",
        SCOPE_CLAIMS="roles",
    ),
    _shape(
        "Auth0",
        auth0_claims(),
        "https://api.example.com/messages",
        "email messages:read messages:write openid profile",
        SCOPE_CLAIMS="permissions",
    ),
    _shape(
        "Keycloak",
        keycloak_claims(),
        "messages-api",
        "email messages-admin offline_access openid profile uma_authorization",
        SCOPE_CLAIMS="realm_access.roles",
    ),
    _shape("Cognito access token", cognito_access_claims(), COGNITO_CLIENT_ID, "messages:read", typ=REMOVE),
    _shape(
        "Cognito ID token",
        cognito_id_claims(),
        COGNITO_CLIENT_ID,
        "admins",
        typ=REMOVE,
        TOKEN_USE="id",
        SCOPE_CLAIMS="cognito:groups",
    ),
    _shape("Curity", curity_claims(), "messages-api", "messages:read openid", key="ec", algorithm="ES256"),
    _shape("Ory Hydra", hydra_claims(), "https://api.example.com/messages", "messages:read offline"),
    _shape(
        "Spring Authorization Server", spring_claims(), SPRING_CLIENT_ID, "messages:read openid", typ=REMOVE
    ),
    _shape("ForgeRock AM", forgerock_claims(), FORGEROCK_CLIENT_ID, "messages:read profile"),
    _shape("WSO2 Identity Server", wso2_claims(), WSO2_CLIENT_ID, "messages:read openid"),
    _shape("Google ID token", google_id_claims(), GOOGLE_CLIENT_ID, ""),
    _shape(
        "RFC 9068 with Ed25519",
        generic_claims(),
        "https://api.example.com",
        "messages:read",
        key="ed25519",
        algorithm="Ed25519",
        typ="at+jwt",
        REQUIRE_AT_JWT_TYP="true",
    ),
)


class RecordedMetrics:
    """A MetricEmitter that keeps the metrics in memory instead of printing them as EMF."""

    def __init__(self) -> None:
        self.published: list[tuple[str, int, dict[str, str]]] = []

    def __call__(self, name: str, value: int, dimensions: Mapping[str, str]) -> None:
        self.published.append((name, value, dict(dimensions)))


class QuietTelemetry(CloudWatchTelemetry):
    """The real telemetry, its metrics recorded in memory (`metrics.published`) instead of printed."""

    def __init__(self) -> None:
        self.metrics = RecordedMetrics()
        super().__init__(logging.getLogger("tests.providers"), self.metrics)


def service_with_keys(
    env: Mapping[str, str], keys: Mapping[str, list[SigningKey]], now: Callable[[], float] = lambda: NOW
) -> AuthorizerService:
    """The real service for `env`, each issuer's cache filled from its own in-memory JWKS."""
    settings = Settings.from_env(env)

    def loader(issuer: str) -> Callable[[], ParsedJwks]:
        return lambda: parse_jwks(jwks_of(*keys.get(issuer, [])), settings.algorithms)

    caches = {
        issuer: JwksCache(loader(issuer), issuer, ttl=600, cooldown=30, max_stale=3600)
        for issuer in settings.issuers
    }
    return AuthorizerService(settings, QuietTelemetry(), caches, now=now)


def authorize(service: AuthorizerService, token: str, method_arn: str = METHOD_ARN) -> dict[str, Any]:
    """The service's answer to a TOKEN event carrying `Bearer <token>`."""
    return service.authorize(
        {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": method_arn}
    )


def rejection(service: AuthorizerService, token: str) -> str | None:
    """Why the service refuses `token` (the reason its logs and metrics give), or None if it allows it."""
    try:
        authorize(service, token)
    except TokenRejected as rejected:
        return rejected.reason
    return None


class StaticFetcher:
    """A JsonFetcher answering from documents in memory, for unit tests with no network."""

    def __init__(self, documents: Mapping[str, Any]) -> None:
        self.documents = dict(documents)
        self.requested: list[str] = []

    def get_json(self, url: str, deadline: float) -> Any:
        self.requested.append(url)
        if url not in self.documents:
            raise JwksFetchError(f"{url} answered HTTP 404")
        return self.documents[url]


def provider_documents(issuer: str, *keys: SigningKey) -> dict[str, Any]:
    """Discovery and JWKS of `issuer`, as its provider would serve them."""
    jwks_uri = issuer.rstrip("/") + "/.well-known/jwks.json"
    return {
        issuer.rstrip("/") + "/.well-known/openid-configuration": {"issuer": issuer, "jwks_uri": jwks_uri},
        jwks_uri: jwks_of(*keys),
    }
