"""Amazon Cognito: tokens really issued by moto's cognito-idp, keys really fetched over `requests`.

Under `mock_aws`, moto answers the user pool's discovery document and JWKS at the pool's issuer URL, so
the authorizer's own HttpJsonFetcher finds the keys exactly as it would in AWS.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from moto import mock_aws

from jwt_authorizer import (
    MIN_RSA_BITS,
    AuthorizerService,
    HttpJsonFetcher,
    Settings,
    build_authorizer,
    parse_jwks,
)
from tests.support.policies import denied_resources
from tests.support.providers import STAGE, QuietTelemetry, authorize, rejection
from tools.explain import explain

REGION = "eu-west-1"
PASSWORD = "Correct-Horse-9-battery"


@dataclass(frozen=True)
class Tokens:
    access: str
    id: str


@dataclass(frozen=True)
class Pool:
    id: str
    client_id: str
    issuer: str
    cognito: Any  # the boto3 client

    def add_client(self, name: str) -> str:
        created = self.cognito.create_user_pool_client(
            UserPoolId=self.id, ClientName=name, ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
        )
        return str(created["UserPoolClient"]["ClientId"])

    def sign_in(self, username: str, client_id: str | None = None) -> Tokens:
        result = self.cognito.initiate_auth(
            ClientId=client_id or self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]
        return Tokens(access=result["AccessToken"], id=result["IdToken"])


def create_pool(cognito: Any, name: str) -> Pool:
    pool_id = cognito.create_user_pool(PoolName=name)["UserPool"]["Id"]
    issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"
    pool = Pool(pool_id, "", issuer, cognito)
    pool = Pool(pool_id, pool.add_client("messages-web"), issuer, cognito)
    cognito.create_group(UserPoolId=pool_id, GroupName="admins")
    for username in ("alice", "bob"):
        cognito.admin_create_user(UserPoolId=pool_id, Username=username, TemporaryPassword="Temp-Pass-1-x")
        cognito.admin_set_user_password(
            UserPoolId=pool_id, Username=username, Password=PASSWORD, Permanent=True
        )
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username="alice", GroupName="admins")
    return pool


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("cognito-idp", region_name=REGION)


@pytest.fixture
def pool(aws: Any) -> Pool:
    return create_pool(aws, "messages")


ROUTES = {"GET /messages": ["aws.cognito.signin.user.admin"], "DELETE /messages/{id}": ["admins"]}


def service_for(pool: Pool, **env: str) -> AuthorizerService:
    settings = Settings.from_env(
        {"ISSUER": pool.issuer, "AUDIENCE": pool.client_id, "ROUTE_SCOPES": json.dumps(ROUTES)} | env
    )
    # The real fetcher: requests, which moto intercepts at the pool's issuer URL.
    return build_authorizer(settings, telemetry=QuietTelemetry(), fetcher=HttpJsonFetcher())


def unverified_claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def test_moto_signs_with_a_2048_bit_rs256_key_the_authorizer_accepts(pool: Pool) -> None:
    fetcher = HttpJsonFetcher()
    discovery = fetcher.get_json(f"{pool.issuer}/.well-known/openid-configuration", deadline=float("inf"))
    assert discovery["issuer"] == pool.issuer
    parsed = parse_jwks(fetcher.get_json(discovery["jwks_uri"], float("inf")), frozenset({"RS256"}))
    assert parsed.skipped == ()
    [key] = parsed.keys["dummy"]
    assert isinstance(key.public_key, RSAPublicKey)
    assert (key.key_type, key.algorithms, key.public_key.key_size) == ("RSA", frozenset({"RS256"}), 2048)
    assert key.public_key.key_size >= MIN_RSA_BITS
    assert jwt.get_unverified_header(pool.sign_in("alice").access) == {
        "alg": "RS256",
        "kid": "dummy",
        "typ": "JWT",
    }


def test_cognito_access_token_is_allowed_on_its_client_id_with_groups_in_the_context(pool: Pool) -> None:
    service = service_for(pool)
    token = pool.sign_in("alice").access
    claims = unverified_claims(token)
    assert "aud" not in claims  # Cognito access tokens name their client in client_id only

    result = authorize(service, token)

    assert result == {
        "principalId": claims["sub"],
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": f"{STAGE}/*/*"},
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Deny",
                    "Resource": denied_resources(STAGE, "DELETE/messages/*"),
                },
            ],
        },
        "context": {
            "sub": claims["sub"],
            "iss": pool.issuer,
            "scopes": '["aws.cognito.signin.user.admin"]',
            "client_id": pool.client_id,
            "token_use": "access",
            "iat": claims["iat"],
            "auth_time": claims["auth_time"],
            "exp": claims["exp"],
            "jti": claims["jti"],
            "origin_jti": claims["origin_jti"],
            "cognito:groups": "admins",
            "username": "alice",
        },
    }
    assert service.caches[pool.issuer].fetch_count == 1


def test_cognito_groups_grant_routes_when_mapped_as_scope_claims(pool: Pool) -> None:
    service = service_for(pool, SCOPE_CLAIMS="cognito:groups")
    admin = authorize(service, pool.sign_in("alice").access)
    member = authorize(service, pool.sign_in("bob").access)
    assert admin["policyDocument"]["Statement"][1:] == []
    assert member["policyDocument"]["Statement"][1]["Resource"] == denied_resources(
        STAGE, "DELETE/messages/*"
    )
    assert "cognito:groups" not in member["context"]


def test_cognito_id_token_is_refused_by_default(pool: Pool) -> None:
    assert rejection(service_for(pool), pool.sign_in("alice").id) == "invalid_token_use"


def test_cognito_id_token_is_allowed_when_token_use_accepts_id_tokens(pool: Pool) -> None:
    id_token = pool.sign_in("alice").id
    result = authorize(service_for(pool, TOKEN_USE="access,id"), id_token)
    assert result["principalId"] == unverified_claims(id_token)["sub"]
    assert (result["context"]["aud"], result["context"]["token_use"]) == (pool.client_id, "id")


def test_access_token_of_another_app_client_of_the_same_pool_is_refused(pool: Pool) -> None:
    other_client = pool.add_client("another-app")
    assert rejection(service_for(pool), pool.sign_in("alice", other_client).access) == "invalid_audience"


def test_token_of_another_user_pool_is_refused_although_it_is_signed_with_the_same_key(
    aws: Any, pool: Pool
) -> None:
    # moto signs every pool's tokens with one key (kid "dummy"): only the issuer tells them apart.
    other = create_pool(aws, "another")
    assert rejection(service_for(pool), other.sign_in("alice").access) == "untrusted_issuer"


def test_two_user_pools_each_accept_only_their_own_app_client(aws: Any, pool: Pool) -> None:
    other = create_pool(aws, "another")
    settings = Settings.from_env(
        {
            "ISSUER": f"{pool.issuer},{other.issuer}",
            "ISSUER_AUDIENCES": json.dumps({pool.issuer: pool.client_id, other.issuer: other.client_id}),
        }
    )
    service = build_authorizer(settings, telemetry=QuietTelemetry(), fetcher=HttpJsonFetcher())
    assert authorize(service, pool.sign_in("alice").access)["context"]["iss"] == pool.issuer
    assert authorize(service, other.sign_in("alice").access)["context"]["iss"] == other.issuer
    # The first pool's audience does not extend to the second: each issuer has only its own.
    token = other.sign_in("bob", other.add_client("another-app")).access
    assert rejection(service, token) == "invalid_audience"


def test_explain_walks_a_cognito_access_token_to_its_verdict(pool: Pool) -> None:
    settings = Settings.from_env(
        {"ISSUER": pool.issuer, "AUDIENCE": pool.client_id, "ROUTE_SCOPES": json.dumps(ROUTES)}
    )
    token = pool.sign_in("bob").access
    explanation = explain(token, settings)
    assert (explanation.exit_code, explanation.reason, explanation.denied) == (
        0,
        None,
        ["DELETE /messages/{id}"],
    )
    assert f"[ok]   iss '{pool.issuer}' is trusted (an Amazon Cognito user pool)" in explanation.text
    assert (
        f'[ok]   client_id "{pool.client_id}" (Cognito, no aud; accepted: {pool.client_id})'
        in explanation.text
    )
    assert '[ok]   token_use "access"' in explanation.text
    assert token.split(".")[2] not in explanation.text
