"""Configuration for several providers: per-issuer audiences, TOKEN_USE, REQUIRE_AT_JWT_TYP, SCOPE_CLAIMS."""

from __future__ import annotations

import pytest

from jwt_authorizer import Settings, is_cognito_issuer
from jwt_authorizer.errors import ConfigurationError
from tests.support.providers import AUTH0_ISSUER, COGNITO_ISSUER, OKTA_ISSUER

BASE = {"ISSUER": OKTA_ISSUER, "AUDIENCE": "api://default"}


def settings(**env: str) -> Settings:
    return Settings.from_env(BASE | env)


def error_for(**env: str) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as raised:
        Settings.from_env(env)
    return raised.value


def test_defaults_accept_access_tokens_only_without_typ_or_extra_scope_claims() -> None:
    loaded = settings()
    assert loaded.token_uses == frozenset({"access"})
    assert loaded.require_at_jwt_typ is False
    assert loaded.scope_claims == ()
    assert loaded.issuer_audiences == {}
    assert loaded.audiences_for(OKTA_ISSUER) == frozenset({"api://default"})


def test_audience_applies_to_every_issuer_of_a_comma_list() -> None:
    loaded = Settings.from_env({"ISSUER": f"{OKTA_ISSUER}, {AUTH0_ISSUER}", "AUDIENCE": "a, b"})
    assert loaded.issuers == (OKTA_ISSUER, AUTH0_ISSUER)
    assert loaded.audiences_for(OKTA_ISSUER) == loaded.audiences_for(AUTH0_ISSUER) == frozenset({"a", "b"})


def test_issuer_audiences_replace_audience_for_the_issuers_they_name() -> None:
    loaded = Settings.from_env(
        {
            "ISSUER": f"{OKTA_ISSUER},{COGNITO_ISSUER}",
            "AUDIENCE": "api://default",
            "ISSUER_AUDIENCES": f'{{"{COGNITO_ISSUER}": ["client-1", "client-2"]}}',
        }
    )
    assert loaded.audiences_for(OKTA_ISSUER) == frozenset({"api://default"})
    assert loaded.audiences_for(COGNITO_ISSUER) == frozenset({"client-1", "client-2"})


def test_audience_may_be_left_out_when_every_issuer_has_its_own() -> None:
    loaded = Settings.from_env(
        {
            "ISSUER": f"{OKTA_ISSUER},{COGNITO_ISSUER}",
            "ISSUER_AUDIENCES": f'{{"{OKTA_ISSUER}": "api://default", "{COGNITO_ISSUER}": "client-1"}}',
        }
    )
    assert loaded.audiences == frozenset()
    assert loaded.audiences_for(OKTA_ISSUER) == frozenset({"api://default"})
    assert loaded.audiences_for(COGNITO_ISSUER) == frozenset({"client-1"})


def test_audience_is_required_when_an_issuer_has_no_audiences_of_its_own() -> None:
    error = error_for(
        ISSUER=f"{OKTA_ISSUER},{COGNITO_ISSUER}",
        ISSUER_AUDIENCES=f'{{"{COGNITO_ISSUER}": "client-1"}}',
    )
    assert error.variable == "AUDIENCE"
    assert "ISSUER_AUDIENCES" in str(error)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("{not json", "is not valid JSON"),
        ('["client-1"]', "must be a JSON object"),
        ('{"https://elsewhere.example.com": "a"}', "is not one of the issuers in ISSUER"),
        (f'{{"{OKTA_ISSUER}": []}}', "non-empty list of audiences"),
        (f'{{"{OKTA_ISSUER}": [""]}}', "non-empty list of audiences"),
        (f'{{"{OKTA_ISSUER}": 42}}', "non-empty list of audiences"),
    ],
)
def test_bad_issuer_audiences_are_refused_naming_the_variable(raw: str, problem: str) -> None:
    error = error_for(**BASE, ISSUER_AUDIENCES=raw)
    assert error.variable == "ISSUER_AUDIENCES"
    assert problem in str(error)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("access", {"access"}), ("id", {"id"}), ("access, id", {"access", "id"}), ("", {"access"})],
)
def test_token_use_lists_the_accepted_kinds_of_token(raw: str, expected: set[str]) -> None:
    assert settings(TOKEN_USE=raw).token_uses == frozenset(expected)


def test_an_unknown_token_use_is_refused_naming_the_variable() -> None:
    error = error_for(**BASE, TOKEN_USE="access,refresh")
    assert (error.variable, str(error)) == ("TOKEN_USE", "TOKEN_USE: 'refresh' is not one of: access, id")


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("TRUE", True), ("1", True), ("false", False)])
def test_require_at_jwt_typ_is_a_boolean(raw: str, expected: bool) -> None:
    assert settings(REQUIRE_AT_JWT_TYP=raw).require_at_jwt_typ is expected


def test_require_at_jwt_typ_refuses_what_is_not_a_boolean() -> None:
    error = error_for(**BASE, REQUIRE_AT_JWT_TYP="sometimes")
    assert (error.variable, str(error)) == (
        "REQUIRE_AT_JWT_TYP",
        "REQUIRE_AT_JWT_TYP: 'sometimes' is not true or false",
    )


def test_scope_claims_keep_their_order_and_drop_repeats() -> None:
    loaded = settings(SCOPE_CLAIMS="roles, permissions, realm_access.roles, cognito:groups, roles")
    assert loaded.scope_claims == ("roles", "permissions", "realm_access.roles", "cognito:groups")


def test_scope_claims_accept_namespaced_claim_names() -> None:
    assert settings(SCOPE_CLAIMS="https://example.com/roles").scope_claims == ("https://example.com/roles",)


@pytest.mark.parametrize("raw", ["realm_access..roles", ".roles", "roles."])
def test_scope_claims_refuse_empty_path_segments(raw: str) -> None:
    error = error_for(**BASE, SCOPE_CLAIMS=raw)
    assert error.variable == "SCOPE_CLAIMS"
    assert "dotted path" in str(error)


def test_scope_claims_are_bounded() -> None:
    error = error_for(**BASE, SCOPE_CLAIMS=",".join(f"claim{n}" for n in range(17)))
    assert str(error) == "SCOPE_CLAIMS: names more than 16 claims"


@pytest.mark.parametrize(
    ("issuer", "cognito"),
    [
        ("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123", True),
        ("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123", True),
        ("https://cognito-idp.cn-north-1.amazonaws.com.cn/cn-north-1_AbC123", True),
        # The region of the pool id must be the host's.
        ("https://cognito-idp.us-east-1.amazonaws.com/eu-west-1_AbC123", False),
        ("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123/", False),
        ("https://cognito-idp.us-east-1.amazonaws.com.evil.example/us-east-1_AbC123", False),
        ("http://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123", False),
        ("https://my-domain.auth.us-east-1.amazoncognito.com", False),
        (OKTA_ISSUER, False),
    ],
)
def test_cognito_user_pools_are_recognised_by_their_exact_issuer_form(issuer: str, cognito: bool) -> None:
    assert is_cognito_issuer(issuer) is cognito
