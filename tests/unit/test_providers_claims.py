"""Each provider's real access-token shape, through the real authorizer pipeline."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devkit.tokens import REMOVE, SigningKey, mint
from jwt_authorizer import AuthorizerService
from jwt_authorizer.errors import TokenRejected
from messages_api.errors import InsufficientScope
from messages_api.identity import Caller
from route_table import RouteTable
from tests.support.policies import denied_resources
from tests.support.providers import (
    AUTH0_ISSUER,
    COGNITO_CLIENT_ID,
    COGNITO_ISSUER,
    ENTRA_API_CLIENT_ID,
    ENTRA_ISSUER,
    FORGEROCK_CLIENT_ID,
    FORGEROCK_ISSUER,
    GENERIC_ISSUER,
    KEYCLOAK_ISSUER,
    OKTA_ISSUER,
    SPRING_CLIENT_ID,
    SPRING_ISSUER,
    STAGE,
    auth0_claims,
    authorize,
    cognito_access_claims,
    cognito_id_claims,
    entra_claims,
    forgerock_claims,
    generic_claims,
    keycloak_claims,
    okta_claims,
    rejection,
    service_with_keys,
    spring_claims,
)

ROUTES = {
    "GET /messages": ["messages:read"],
    "POST /messages": ["messages:write"],
    "DELETE /messages/{id}": ["messages:admin"],
}


def allow_all_but(*denied: str) -> dict[str, Any]:
    statements: list[dict[str, Any]] = [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": f"{STAGE}/*/*"}
    ]
    if denied:
        statements.append(
            {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": denied_resources(STAGE, *denied)}
        )
    return {"Version": "2012-10-17", "Statement": statements}


def provider(
    issuer: str, key: SigningKey, audience: str, routes: dict[str, list[str]] | None = None, **env: str
) -> AuthorizerService:
    return service_with_keys(
        {"ISSUER": issuer, "AUDIENCE": audience, "ROUTE_SCOPES": json.dumps(routes or ROUTES)} | env,
        {issuer: [key]},
    )


# Okta ------------------------------------------------------------------------------------------------


def test_okta_scp_array_and_cid_give_the_whole_authorizer_result(rsa_signing_key: SigningKey) -> None:
    service = provider(OKTA_ISSUER, rsa_signing_key, "api://default")
    token = mint(rsa_signing_key, okta_claims(), typ=REMOVE)
    assert authorize(service, token) == {
        "principalId": "alice@example.com",
        "policyDocument": allow_all_but("DELETE/messages/*", "POST/messages"),
        "context": {
            "sub": "alice@example.com",
            "iss": OKTA_ISSUER,
            "scopes": '["messages:read","openid"]',
            "client_id": "0oa1b2c3d4e5f6g7h8i9",
            "ver": 1,
            "jti": "AT.n3sHJLRHhEQ4F9_8ia3iQGaRBM0X1fEcjiKkZ4dIDnE",
            "aud": "api://default",
            "iat": 1_800_000_000,
            "exp": 1_800_003_600,
            "cid": "0oa1b2c3d4e5f6g7h8i9",
            "uid": "00u1a2b3c4d5e6f7g8h9",
            "auth_time": 1_799_999_940,
            "groups": "Everyone,Messaging",
        },
    }


def test_okta_groups_can_grant_routes_when_mapped(rsa_signing_key: SigningKey) -> None:
    routes = {"DELETE /messages/{id}": ["Messaging"]}
    service = provider(OKTA_ISSUER, rsa_signing_key, "api://default", routes, SCOPE_CLAIMS="groups")
    result = authorize(service, mint(rsa_signing_key, okta_claims(), typ=REMOVE))
    assert result["policyDocument"] == allow_all_but()
    # The context's scopes are what the routes were checked against: the protected function re-checks them.
    assert (result["context"]["scopes"], result["context"]["groups"]) == (
        '["Everyone","Messaging","messages:read","openid"]',
        "Everyone,Messaging",
    )


# Microsoft Entra ID v2 -------------------------------------------------------------------------------

ENTRA_ROUTES = {
    "GET /messages": ["messages.read"],
    "POST /messages": ["messages.write"],
    "DELETE /messages/{id}": ["Messages.Admin"],
}


def test_entra_scp_string_grants_delegated_scopes_and_roles_are_ignored_unless_mapped(
    rsa_signing_key: SigningKey,
) -> None:
    service = provider(ENTRA_ISSUER, rsa_signing_key, ENTRA_API_CLIENT_ID, ENTRA_ROUTES)
    result = authorize(service, mint(rsa_signing_key, entra_claims()))
    assert result["policyDocument"] == allow_all_but("DELETE/messages/*")
    assert result["principalId"] == "l3_roISQU222bULS9yi2k0XpqpOiMz5H3ZACo1GeXA"
    assert {name: result["context"][name] for name in ("scopes", "client_id", "roles", "ver", "tid")} == {
        "scopes": '["messages.read","messages.write"]',
        "client_id": "a2b8d7c1-0c4e-4f2e-9d4e-2c3b7f1e9a10",
        "roles": "Messages.Admin",
        "ver": "2.0",
        "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47",
    }


def test_entra_app_roles_grant_routes_when_roles_is_a_scope_claim(rsa_signing_key: SigningKey) -> None:
    service = provider(ENTRA_ISSUER, rsa_signing_key, ENTRA_API_CLIENT_ID, ENTRA_ROUTES, SCOPE_CLAIMS="roles")
    app_only = entra_claims(scp=REMOVE)  # client credentials: roles only, no scp
    result = authorize(service, mint(rsa_signing_key, app_only))
    assert result["policyDocument"] == allow_all_but("GET/messages", "POST/messages")


def test_entra_token_for_another_api_is_refused(rsa_signing_key: SigningKey) -> None:
    service = provider(ENTRA_ISSUER, rsa_signing_key, ENTRA_API_CLIENT_ID, ENTRA_ROUTES)
    graph_token = entra_claims(aud="00000003-0000-0000-c000-000000000000")
    assert rejection(service, mint(rsa_signing_key, graph_token)) == "invalid_audience"


# Auth0 -----------------------------------------------------------------------------------------------


def test_auth0_aud_array_is_accepted_when_one_audience_matches(rsa_signing_key: SigningKey) -> None:
    service = provider(AUTH0_ISSUER, rsa_signing_key, "https://api.example.com/messages")
    result = authorize(service, mint(rsa_signing_key, auth0_claims()))
    # Without SCOPE_CLAIMS only `scope` counts, and it holds no API scope here.
    assert result["policyDocument"] == allow_all_but("DELETE/messages/*", "GET/messages", "POST/messages")
    assert (
        result["context"]["aud"]
        == "https://api.example.com/messages,https://example-tenant.eu.auth0.com/userinfo"
    )
    assert result["context"]["permissions"] == "messages:read,messages:write"


def test_auth0_rbac_permissions_grant_routes_when_mapped(rsa_signing_key: SigningKey) -> None:
    service = provider(
        AUTH0_ISSUER, rsa_signing_key, "https://api.example.com/messages", SCOPE_CLAIMS="permissions"
    )
    result = authorize(service, mint(rsa_signing_key, auth0_claims()))
    assert result["policyDocument"] == allow_all_but("DELETE/messages/*")
    assert json.loads(result["context"]["scopes"]) == [
        "email",
        "messages:read",
        "messages:write",
        "openid",
        "profile",
    ]


def test_auth0_issuer_is_matched_with_its_trailing_slash(rsa_signing_key: SigningKey) -> None:
    service = provider(AUTH0_ISSUER, rsa_signing_key, "https://api.example.com/messages")
    no_slash = auth0_claims(iss=AUTH0_ISSUER.rstrip("/"))
    assert rejection(service, mint(rsa_signing_key, no_slash)) == "untrusted_issuer"


def test_auth0_namespaced_roles_claim_is_read_as_one_name(rsa_signing_key: SigningKey) -> None:
    claim = "https://example.com/roles"
    service = provider(AUTH0_ISSUER, rsa_signing_key, "https://api.example.com/messages", SCOPE_CLAIMS=claim)
    token = mint(rsa_signing_key, auth0_claims(permissions=REMOVE, **{claim: ["messages:admin"]}))
    result = authorize(service, token)
    assert result["policyDocument"] == allow_all_but("GET/messages", "POST/messages")


# Keycloak --------------------------------------------------------------------------------------------


def test_keycloak_realm_roles_grant_routes_through_a_dotted_path(rsa_signing_key: SigningKey) -> None:
    routes = {"GET /messages": ["messages:read"], "DELETE /messages/{id}": ["messages-admin"]}
    service = provider(
        KEYCLOAK_ISSUER, rsa_signing_key, "messages-api", routes, SCOPE_CLAIMS="realm_access.roles"
    )
    result = authorize(service, mint(rsa_signing_key, keycloak_claims()))
    assert result["policyDocument"] == allow_all_but("GET/messages")
    assert result["context"]["client_id"] == "messages-client"
    assert result["context"]["realm_access"] == (
        '{"roles":["offline_access","uma_authorization","messages-admin"]}'
    )


def test_keycloak_token_with_only_the_account_audience_is_refused(rsa_signing_key: SigningKey) -> None:
    service = provider(KEYCLOAK_ISSUER, rsa_signing_key, "messages-api")
    default_audience = keycloak_claims(aud="account")  # no audience mapper configured in the realm
    assert rejection(service, mint(rsa_signing_key, default_audience)) == "invalid_audience"


def test_a_mapped_claim_that_is_an_object_is_refused_not_guessed_at(rsa_signing_key: SigningKey) -> None:
    service = provider(KEYCLOAK_ISSUER, rsa_signing_key, "messages-api", SCOPE_CLAIMS="realm_access")
    assert rejection(service, mint(rsa_signing_key, keycloak_claims())) == "invalid_scope_claim"


def test_a_mapped_claim_the_token_lacks_grants_nothing(rsa_signing_key: SigningKey) -> None:
    service = provider(KEYCLOAK_ISSUER, rsa_signing_key, "messages-api", SCOPE_CLAIMS="realm_access.roles")
    result = authorize(
        service, mint(rsa_signing_key, keycloak_claims(realm_access=REMOVE, scope="messages:read"))
    )
    assert result["policyDocument"] == allow_all_but("DELETE/messages/*", "POST/messages")


# Spring Authorization Server and ForgeRock AM: `scope` as a JSON array ----------------------------------


def test_spring_scope_array_grants_its_scopes_and_reaches_the_context(rsa_signing_key: SigningKey) -> None:
    service = provider(SPRING_ISSUER, rsa_signing_key, SPRING_CLIENT_ID)
    result = authorize(service, mint(rsa_signing_key, spring_claims(), typ=REMOVE))
    assert result == {
        "principalId": "alice",
        "policyDocument": allow_all_but("DELETE/messages/*", "POST/messages"),
        "context": {
            "sub": "alice",
            "iss": SPRING_ISSUER,
            "scopes": '["messages:read","openid"]',
            "aud": SPRING_CLIENT_ID,
            "nbf": 1_800_000_000,
            "exp": 1_800_000_300,
            "iat": 1_800_000_000,
            "jti": "4b3e1b2c-6f0a-4c1e-9d7a-5e2f8c9b0a11",
        },
    }


def test_forgerock_scope_array_grants_its_scopes(rsa_signing_key: SigningKey) -> None:
    service = provider(FORGEROCK_ISSUER, rsa_signing_key, FORGEROCK_CLIENT_ID)
    result = authorize(service, mint(rsa_signing_key, forgerock_claims()))
    assert result["policyDocument"] == allow_all_but("DELETE/messages/*", "POST/messages")
    assert (result["context"]["scopes"], result["context"]["realm"]) == (
        '["messages:read","profile"]',
        "/alpha",
    )


def test_a_scope_array_holding_a_non_string_is_refused(rsa_signing_key: SigningKey) -> None:
    service = provider(SPRING_ISSUER, rsa_signing_key, SPRING_CLIENT_ID, routes={"GET /health": []})
    token = mint(rsa_signing_key, spring_claims(scope=["messages:read", 1]))
    assert rejection(service, token) == "invalid_scope_claim"


# Generic RFC 9068 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("typ", ["at+jwt", "application/at+jwt", "AT+JWT"])
def test_rfc9068_typ_is_accepted_when_required(rsa_signing_key: SigningKey, typ: str) -> None:
    service = provider(GENERIC_ISSUER, rsa_signing_key, "https://api.example.com", REQUIRE_AT_JWT_TYP="true")
    result = authorize(service, mint(rsa_signing_key, generic_claims(), typ=typ))
    assert result["policyDocument"] == allow_all_but("DELETE/messages/*", "POST/messages")


@pytest.mark.parametrize("typ", ["JWT", "jwt", "application/okta-internal-at+jwt", REMOVE])
def test_other_typ_values_are_refused_when_at_jwt_is_required(rsa_signing_key: SigningKey, typ: Any) -> None:
    service = provider(GENERIC_ISSUER, rsa_signing_key, "https://api.example.com", REQUIRE_AT_JWT_TYP="true")
    assert rejection(service, mint(rsa_signing_key, generic_claims(), typ=typ)) == "invalid_typ"


def test_typ_is_not_required_by_default(rsa_signing_key: SigningKey) -> None:
    service = provider(GENERIC_ISSUER, rsa_signing_key, "https://api.example.com")
    assert (
        authorize(service, mint(rsa_signing_key, generic_claims(), typ="JWT"))["principalId"] == "5ba552d67"
    )


# Amazon Cognito (the shapes; real issuance by moto is in the integration tests) ----------------------


def cognito(key: SigningKey, **env: str) -> AuthorizerService:
    return provider(COGNITO_ISSUER, key, COGNITO_CLIENT_ID, None, **env)


def test_cognito_access_token_is_accepted_on_its_client_id(rsa_signing_key: SigningKey) -> None:
    result = authorize(cognito(rsa_signing_key), mint(rsa_signing_key, cognito_access_claims(), typ=REMOVE))
    assert result["principalId"] == "8b3c9f3e-1d2a-4f5b-8c6d-7e8f9a0b1c2d"
    assert result["policyDocument"] == allow_all_but("DELETE/messages/*", "POST/messages")
    assert {name: result["context"][name] for name in ("client_id", "cognito:groups", "token_use")} == {
        "client_id": COGNITO_CLIENT_ID,
        "cognito:groups": "admins,readers",
        "token_use": "access",
    }


def test_cognito_groups_grant_routes_when_mapped(rsa_signing_key: SigningKey) -> None:
    routes = {"DELETE /messages/{id}": ["admins"], "POST /messages": ["writers"]}
    service = provider(
        COGNITO_ISSUER, rsa_signing_key, COGNITO_CLIENT_ID, routes, SCOPE_CLAIMS="cognito:groups"
    )
    result = authorize(service, mint(rsa_signing_key, cognito_access_claims(), typ=REMOVE))
    assert result["policyDocument"] == allow_all_but("POST/messages")


def test_cognito_access_token_of_another_app_client_is_refused(rsa_signing_key: SigningKey) -> None:
    other_client = cognito_access_claims(client_id="7abcdefghijklmnopqrstuvwxy")
    assert rejection(cognito(rsa_signing_key), mint(rsa_signing_key, other_client)) == "invalid_audience"


def test_cognito_access_token_without_aud_or_client_id_is_refused(rsa_signing_key: SigningKey) -> None:
    bare = cognito_access_claims(client_id=REMOVE)
    assert rejection(cognito(rsa_signing_key), mint(rsa_signing_key, bare)) == "invalid_audience"


def test_cognito_id_token_is_refused_by_default(rsa_signing_key: SigningKey) -> None:
    assert (
        rejection(cognito(rsa_signing_key), mint(rsa_signing_key, cognito_id_claims())) == "invalid_token_use"
    )


def test_cognito_id_token_is_accepted_when_token_use_allows_it(rsa_signing_key: SigningKey) -> None:
    service = cognito(rsa_signing_key, TOKEN_USE="access,id")
    result = authorize(service, mint(rsa_signing_key, cognito_id_claims()))
    assert (result["principalId"], result["context"]["cognito:username"]) == (
        "8b3c9f3e-1d2a-4f5b-8c6d-7e8f9a0b1c2d",
        "alice",
    )


def test_cognito_access_token_is_refused_when_only_id_tokens_are_accepted(
    rsa_signing_key: SigningKey,
) -> None:
    service = cognito(rsa_signing_key, TOKEN_USE="id")
    assert rejection(service, mint(rsa_signing_key, cognito_access_claims())) == "invalid_token_use"


def test_cognito_token_without_token_use_is_refused(rsa_signing_key: SigningKey) -> None:
    unmarked = cognito_access_claims(token_use=REMOVE)
    assert rejection(cognito(rsa_signing_key), mint(rsa_signing_key, unmarked)) == "invalid_token_use"


def test_client_id_stands_in_for_aud_only_for_cognito_issuers(rsa_signing_key: SigningKey) -> None:
    service = provider(GENERIC_ISSUER, rsa_signing_key, "s6BhdRkqt3")
    no_aud = generic_claims(aud=REMOVE)
    assert rejection(service, mint(rsa_signing_key, no_aud)) == "invalid_audience"


def test_a_cognito_token_with_aud_is_checked_on_aud_not_client_id(rsa_signing_key: SigningKey) -> None:
    both = cognito_access_claims(aud="someone-else")
    assert rejection(cognito(rsa_signing_key), mint(rsa_signing_key, both)) == "invalid_audience"


@pytest.mark.parametrize("token_use", [["access"], {"access": True}, 1, None])
def test_a_token_use_that_is_not_a_string_is_refused_not_crashed_on(
    rsa_signing_key: SigningKey, token_use: Any
) -> None:
    claims = cognito_access_claims(token_use=token_use)
    assert rejection(cognito(rsa_signing_key), mint(rsa_signing_key, claims)) == "invalid_token_use"


def test_any_issuers_token_that_says_it_is_an_id_token_is_refused(rsa_signing_key: SigningKey) -> None:
    service = provider(GENERIC_ISSUER, rsa_signing_key, "https://api.example.com")
    assert rejection(service, mint(rsa_signing_key, generic_claims(token_use="id"))) == "invalid_token_use"


# Several issuers at once -----------------------------------------------------------------------------


def test_each_issuer_accepts_only_its_own_audiences(
    rsa_signing_key: SigningKey, rotated_rsa_key: SigningKey
) -> None:
    service = service_with_keys(
        {
            "ISSUER": f"{OKTA_ISSUER},{COGNITO_ISSUER}",
            "AUDIENCE": "api://default",
            "ISSUER_AUDIENCES": json.dumps({COGNITO_ISSUER: [COGNITO_CLIENT_ID]}),
        },
        {OKTA_ISSUER: [rsa_signing_key], COGNITO_ISSUER: [rotated_rsa_key]},
    )
    assert authorize(service, mint(rsa_signing_key, okta_claims()))["principalId"] == "alice@example.com"
    assert authorize(service, mint(rotated_rsa_key, cognito_access_claims()))["context"]["client_id"] == (
        COGNITO_CLIENT_ID
    )
    okta_token_for_the_cognito_client = okta_claims(aud=COGNITO_CLIENT_ID)
    assert rejection(service, mint(rsa_signing_key, okta_token_for_the_cognito_client)) == "invalid_audience"
    cognito_token_for_okta_audience = cognito_access_claims(aud="api://default")
    assert rejection(service, mint(rotated_rsa_key, cognito_token_for_okta_audience)) == "invalid_audience"


# Whatever shape the provider-specific claims take, the answer is an authorizer result or a 401 ---------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    overrides=st.fixed_dictionaries(
        {},
        optional={
            name: json_values
            for name in ("aud", "client_id", "token_use", "roles", "realm_access", "cognito:groups", "scope")
        },
    )
)
def test_odd_provider_claims_never_crash_the_authorizer(
    rsa_signing_key: SigningKey, overrides: dict[str, Any]
) -> None:
    service = provider(
        COGNITO_ISSUER,
        rsa_signing_key,
        COGNITO_CLIENT_ID,
        SCOPE_CLAIMS="roles,realm_access.roles,cognito:groups",
        TOKEN_USE="access,id",
    )
    token = mint(rsa_signing_key, cognito_access_claims(**overrides))
    try:
        result = authorize(service, token)
    except TokenRejected:
        return
    assert set(result) == {"principalId", "policyDocument", "context"}


def test_the_protected_function_agrees_with_the_authorizer_on_mapped_roles(
    rsa_signing_key: SigningKey,
) -> None:
    # Given Entra ID app roles mapped onto routes, and a client-credentials token holding only roles,
    service = provider(ENTRA_ISSUER, rsa_signing_key, ENTRA_API_CLIENT_ID, ENTRA_ROUTES, SCOPE_CLAIMS="roles")
    result = authorize(service, mint(rsa_signing_key, entra_claims(scp=REMOVE)))
    # When the protected function checks the same ROUTE_SCOPES against the context it receives,
    caller = Caller.from_event({"requestContext": {"authorizer": result["context"]}})
    table = RouteTable.parse(json.dumps(ENTRA_ROUTES))
    # Then it allows the route the authorizer allowed, and refuses the ones the authorizer denied.
    caller.require(table.required("DELETE", "/messages/{id}"))
    with pytest.raises(InsufficientScope):
        caller.require(table.required("GET", "/messages"))
    assert result["policyDocument"] == allow_all_but("GET/messages", "POST/messages")
