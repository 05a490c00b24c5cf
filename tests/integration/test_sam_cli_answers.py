"""The authorizer under the SAM CLI (AWS_SAM_LOCAL=true) answers so that `sam local start-api` shows 4xx for
refused tokens and 403 for missing scopes; deployed (no AWS_SAM_LOCAL), its answers are unchanged."""

from __future__ import annotations

import json
import re
from types import ModuleType
from typing import Any

import pytest

from devkit.jwks_server import JwksServer, Reply
from devkit.tokens import AUDIENCE, SigningKey, claims_for, jwks_of, mint
from jwt_authorizer import LOOPBACK_ONLY, AuthorizerUnavailableError, ConfigurationError, Settings
from jwt_authorizer.sam_cli import CONTAINER_HOSTS, edge_for

ROUTE_SCOPES = {"GET /messages": ["messages:read"], "POST /messages": ["messages:write"]}
# The method ARN `sam local start-api` builds: fixed account and API id, the template's stage.
STAGE = "arn:aws:execute-api:us-east-1:123456789012:1234567890/dev"
ALLOW_STAGE = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": f"{STAGE}/*/*"}
DENY_POST = {
    "Action": "execute-api:Invoke",
    "Effect": "Deny",
    "Resource": [
        f"{STAGE}/POST/*%*",
        f"{STAGE}/POST/*//*",
        f"{STAGE}/POST//*",
        f"{STAGE}/POST/messages",
        f"{STAGE}/POST/messages/",
    ],
}
REFUSAL = {
    "principalId": "anonymous",
    "policyDocument": {
        "Version": "2012-10-17",
        "Statement": [{"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": "*"}],
    },
    "context": {"error": "Unauthorized"},
}


def event(authorization: str, route: str) -> dict[str, Any]:
    return {"type": "TOKEN", "authorizationToken": authorization, "methodArn": f"{STAGE}/{route}"}


def start(
    monkeypatch: pytest.MonkeyPatch, server: JwksServer, key: SigningKey, sam_local: str | None
) -> ModuleType:
    monkeypatch.setenv("ISSUER", server.issuer)
    monkeypatch.setenv("AUDIENCE", AUDIENCE)
    monkeypatch.setenv("ROUTE_SCOPES", json.dumps(ROUTE_SCOPES))
    if sam_local is None:
        monkeypatch.delenv("AWS_SAM_LOCAL", raising=False)
    else:
        monkeypatch.setenv("AWS_SAM_LOCAL", sam_local)
    server.publish(jwks_of(key))
    import authorizer_handler

    authorizer_handler.reset()
    return authorizer_handler


@pytest.fixture
def sam_cli(
    monkeypatch: pytest.MonkeyPatch, jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> ModuleType:
    return start(monkeypatch, jwks_server, rsa_signing_key, "true")


@pytest.fixture(params=[None, "false", "1", "TRUE"], ids=["unset", "false", "1", "TRUE"])
def deployed(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    jwks_server: JwksServer,
    rsa_signing_key: SigningKey,
) -> ModuleType:
    # The SAM CLI sets exactly "true"; anything else is not the SAM CLI.
    return start(monkeypatch, jwks_server, rsa_signing_key, request.param)


def tokens(key: SigningKey, server: JwksServer, other_key: SigningKey) -> dict[str, str]:
    forger = SigningKey(key.kid, other_key.private_key, "RS256")
    return {
        "forged": mint(forger, claims_for(server.issuer)),
        "expired": mint(key, claims_for(server.issuer, exp=1_000)),
        "wrong audience": mint(key, claims_for(server.issuer, aud="api://other")),
        "unknown kid": mint(
            SigningKey("kid-nobody-has", key.private_key, "RS256"), claims_for(server.issuer)
        ),
        "untrusted issuer": mint(key, claims_for("https://evil.example.com")),
        "not a jwt": "not-a-jwt",
    }


@pytest.mark.parametrize("route", ["GET/profile", "POST/messages"])
def test_under_the_sam_cli_a_refused_token_gets_a_policy_allowing_nothing_not_an_error(
    sam_cli: ModuleType,
    rsa_signing_key: SigningKey,
    rotated_rsa_key: SigningKey,
    jwks_server: JwksServer,
    route: str,
) -> None:
    for name, token in tokens(rsa_signing_key, jwks_server, rotated_rsa_key).items():
        assert sam_cli.lambda_handler(event(f"Bearer {token}", route), None) == REFUSAL, name


@pytest.mark.parametrize(
    "route",
    ["POST/messages", "POST/messages/", "POST//messages", "POST/messages//", "POST/m%65ssages", "POST//x"],
    ids=["own spelling", "trailing slash", "leading doubled", "doubled trailing", "encoded", "any doubled"],
)
def test_under_the_sam_cli_a_route_the_token_lacks_a_scope_for_gets_only_the_deny(
    sam_cli: ModuleType, rsa_signing_key: SigningKey, jwks_server: JwksServer, route: str
) -> None:
    # The SAM CLI reads Allow statements only: whatever the spelling, the Allow must go.
    reader = mint(rsa_signing_key, claims_for(jwks_server.issuer, scope="messages:read"))
    answer = sam_cli.lambda_handler(event(f"Bearer {reader}", route), None)
    assert answer["principalId"] == "user-123"
    assert answer["policyDocument"] == {"Version": "2012-10-17", "Statement": [DENY_POST]}


@pytest.mark.parametrize("route", ["GET/profile", "GET/messages"])
def test_under_the_sam_cli_a_permitted_route_gets_the_stage_wide_policy_as_deployed(
    sam_cli: ModuleType, rsa_signing_key: SigningKey, jwks_server: JwksServer, route: str
) -> None:
    reader = mint(rsa_signing_key, claims_for(jwks_server.issuer, scope="messages:read"))
    answer = sam_cli.lambda_handler(event(f"Bearer {reader}", route), None)
    assert answer["policyDocument"] == {"Version": "2012-10-17", "Statement": [ALLOW_STAGE, DENY_POST]}
    assert answer["context"]["scopes"] == '["messages:read"]'


def test_under_the_sam_cli_a_token_that_could_not_be_checked_is_still_a_server_error(
    sam_cli: ModuleType, rsa_signing_key: SigningKey, jwks_server: JwksServer
) -> None:
    jwks_server.replies[jwks_server.discovery_path] = Reply(status=503)
    token = mint(rsa_signing_key, claims_for(jwks_server.issuer))
    with pytest.raises(AuthorizerUnavailableError):
        sam_cli.lambda_handler(event(f"Bearer {token}", "GET/profile"), None)


def test_deployed_a_refused_token_raises_exactly_unauthorized(
    deployed: ModuleType, rsa_signing_key: SigningKey, rotated_rsa_key: SigningKey, jwks_server: JwksServer
) -> None:
    for name, token in tokens(rsa_signing_key, jwks_server, rotated_rsa_key).items():
        with pytest.raises(Exception) as raised:  # noqa: PT011 - the exact type and text are asserted
            deployed.lambda_handler(event(f"Bearer {token}", "GET/profile"), None)
        assert type(raised.value) is Exception, name
        assert str(raised.value) == "Unauthorized", name


def test_deployed_a_route_the_token_lacks_a_scope_for_still_gets_the_stage_wide_policy(
    deployed: ModuleType, rsa_signing_key: SigningKey, jwks_server: JwksServer
) -> None:
    reader = mint(rsa_signing_key, claims_for(jwks_server.issuer, scope="messages:read"))
    answer = deployed.lambda_handler(event(f"Bearer {reader}", "POST/messages"), None)
    assert answer["policyDocument"] == {"Version": "2012-10-17", "Statement": [ALLOW_STAGE, DENY_POST]}


CONTAINER_HOST_URLS = [
    "http://host.docker.internal:3001/.well-known/jwks.json",
    "http://HOST.docker.internal:3001/jwks",
    "http://172.17.0.1:3001/.well-known/jwks.json",
    "http://192.168.65.254:3001/jwks",
    "http://10.0.2.2/jwks",
]
NEVER_HTTP_URLS = [
    "http://issuer.example.com/jwks",
    "http://169.254.169.254/latest/meta-data",  # link-local: cloud metadata services
    "http://8.8.8.8/jwks",
    "http://0.0.0.0:3001/jwks",
    "http://host.docker.internal.example.com/jwks",
]
BASE_ENV = {"ISSUER": "http://127.0.0.1:3001", "AUDIENCE": "api://messages"}


def settings_from(env: dict[str, str]) -> Settings:
    """The settings as the handler reads them: with the plain-http rule of the edge it applies."""
    return Settings.from_env(env, edge_for(env).plain_http)


@pytest.mark.parametrize("url", CONTAINER_HOST_URLS)
def test_under_the_sam_cli_plain_http_reaches_the_machine_running_the_container(url: str) -> None:
    settings = settings_from({**BASE_ENV, "JWKS_URI": url, "AWS_SAM_LOCAL": "true"})
    assert settings.jwks_uri == url
    assert settings.plain_http is CONTAINER_HOSTS


@pytest.mark.parametrize("url", NEVER_HTTP_URLS)
def test_under_the_sam_cli_plain_http_elsewhere_is_still_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^JWKS_URI: .* must use https"):
        settings_from({**BASE_ENV, "JWKS_URI": url, "AWS_SAM_LOCAL": "true"})


@pytest.mark.parametrize("url", CONTAINER_HOST_URLS)
@pytest.mark.parametrize("sam_local", [None, "false", "1"])
def test_deployed_plain_http_is_allowed_for_loopback_hosts_only(url: str, sam_local: str | None) -> None:
    env = {**BASE_ENV, "JWKS_URI": url} | ({} if sam_local is None else {"AWS_SAM_LOCAL": sam_local})
    with pytest.raises(
        ConfigurationError,
        match=r"^JWKS_URI: .* must use https \(plain http is allowed only for loopback hosts\)$",
    ):
        settings_from(env)
    with pytest.raises(ConfigurationError, match=r"^ISSUER: .* must use https"):
        settings_from({**env, "ISSUER": url.rsplit("/", 1)[0], "JWKS_URI": ""})
    assert settings_from({**env, "JWKS_URI": "http://127.0.0.1:3001/jwks"}).plain_http is LOOPBACK_ONLY


#: What Lambda sets in every execution environment (the local stack does not; the SAM CLI's emulator does).
IN_LAMBDA = {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001"}


@pytest.mark.parametrize("url", ["http://127.0.0.1:3001", "http://localhost:3001", "http://[::1]:3001"])
def test_in_lambda_no_configured_url_may_be_plain_http_not_even_loopback(url: str) -> None:
    # In Lambda, 127.0.0.1 is the function's own sandbox: the Runtime API listens on 127.0.0.1:9001.
    refused = re.escape(" must use https (plain http is allowed only for local runs, never in Lambda)") + "$"
    with pytest.raises(ConfigurationError, match=r"^ISSUER: .*" + refused):
        settings_from({**BASE_ENV, **IN_LAMBDA, "ISSUER": url})
    https = {**BASE_ENV, **IN_LAMBDA, "ISSUER": "https://issuer.example.com"}
    with pytest.raises(ConfigurationError, match=r"^JWKS_URI: .*" + refused):
        settings_from({**https, "JWKS_URI": f"{url}/jwks"})
    assert settings_from(https).issuers == ("https://issuer.example.com",)


def test_the_sam_clis_containers_keep_its_rule_though_they_have_a_runtime_api_too() -> None:
    env = {**BASE_ENV, **IN_LAMBDA, "AWS_SAM_LOCAL": "true", "JWKS_URI": "http://172.17.0.1:3001/jwks"}
    assert settings_from(env).plain_http is CONTAINER_HOSTS


def test_deployed_the_key_fetch_refuses_plain_http_to_a_container_host(
    deployed: ModuleType, rsa_signing_key: SigningKey, jwks_server: JwksServer
) -> None:
    # Discovery names a jwks_uri on a private address: deployed, it is never fetched.
    jwks_server.replies[jwks_server.discovery_path] = Reply.json(
        {"issuer": jwks_server.issuer, "jwks_uri": "http://172.17.0.1:9/jwks"}
    )
    token = mint(rsa_signing_key, claims_for(jwks_server.issuer))
    with pytest.raises(AuthorizerUnavailableError):
        deployed.lambda_handler(event(f"Bearer {token}", "GET/profile"), None)
    assert jwks_server.hits == {jwks_server.discovery_path: 1}
