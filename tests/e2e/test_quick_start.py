"""The README's tutorial, end to end: template.yaml's real handlers behind the local gateway, with tokens
from the local OpenID provider, both on free ports of 127.0.0.1."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

from devkit.clock import FakeClock, OffsetWallClock
from local import authorizer_env
from local.__main__ import authorizer_environment
from local.__main__ import main as local_main
from local.stack import LocalStack, StackOptions
from tests.support.discovery import challenge_parameters
from tests.support.raw_http import send_as_is
from tools.explain import main as explain_main


@dataclass
class Stack:
    api: str
    provider: str
    lines: list[str]
    cache_clock: FakeClock
    provider_clock: OffsetWallClock
    running: LocalStack

    def token_response(self, scope: str | None = None, **kwargs: Any) -> requests.Response:
        data = {"grant_type": "client_credentials"} | ({"scope": scope} if scope is not None else {})
        kwargs.setdefault("auth", ("dev-client", "dev-secret"))
        return requests.post(f"{self.provider}/oauth2/token", data=data, timeout=10, **kwargs)

    def token(self, scope: str | None = None) -> str:
        response = self.token_response(scope)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def issuer_keys_rotate(self) -> str:
        assert self.running.issuer is not None
        return self.running.issuer.keys.rotate(3600).kid

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return requests.request(method, f"{self.api}{path}", headers=headers, timeout=10, **kwargs)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    lines: list[str] = []
    cache_clock = FakeClock()
    provider_clock = OffsetWallClock()
    options = StackOptions(
        api_port=0, provider_port=0, key_file=tmp_path_factory.mktemp("keys") / "provider-keys.json"
    )
    running = LocalStack(options, log=lines.append, clock=cache_clock, provider_now=provider_clock)
    running.start()
    assert running.provider_url is not None
    try:
        yield Stack(running.api_url, running.provider_url, lines, cache_clock, provider_clock, running)
    finally:
        running.stop()


@pytest.fixture(autouse=True)
def _reset_provider_clock(stack: Stack) -> Iterator[None]:
    yield
    stack.provider_clock.offset = 0.0


def test_public_route_answers_without_a_token(stack: Stack) -> None:
    response = stack.call("GET", "/public")

    assert response.status_code == 200
    assert "message" in response.json()


def test_protected_route_without_a_token_is_401_with_www_authenticate(stack: Stack) -> None:
    response = stack.call("GET", "/profile")

    assert response.status_code == 401
    # RFC 6750 section 3.1: no error code for a request that carried no token.
    assert challenge_parameters(response.headers["WWW-Authenticate"]) == {
        "realm": "messages-api",
        "resource_metadata": f"{stack.api}/.well-known/oauth-protected-resource",
    }


def test_token_from_basic_client_auth_is_an_rfc9068_access_token_that_gets_the_profile(stack: Stack) -> None:
    response = stack.token_response("messages:read")

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    token = body.pop("access_token")
    assert body == {"token_type": "Bearer", "expires_in": 3600, "scope": "messages:read"}
    header = jwt.get_unverified_header(token)
    assert (header["typ"], header["alg"]) == ("at+jwt", "RS256")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert set(claims) == {"iss", "aud", "sub", "client_id", "scope", "iat", "exp", "jti"}
    assert {key: claims[key] for key in ("iss", "aud", "sub", "client_id", "scope")} == {
        "iss": stack.provider,
        "aud": "api://messages",
        "sub": "dev-client",
        "client_id": "dev-client",
        "scope": "messages:read",
    }
    assert claims["exp"] - claims["iat"] == 3600

    profile = stack.call("GET", "/profile", token)
    assert profile.status_code == 200
    assert profile.json()["sub"] == "dev-client"


def test_client_secret_post_works_too_and_no_scope_means_all_the_clients_scopes(stack: Stack) -> None:
    response = requests.post(
        f"{stack.provider}/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "dev-client", "client_secret": "dev-secret"},
        timeout=10,
    )

    assert response.status_code == 200
    assert response.json()["scope"] == "messages:read messages:write"


def test_read_only_token_cannot_post_messages_403_insufficient_scope(stack: Stack) -> None:
    response = stack.call("POST", "/messages", stack.token("messages:read"), json={"text": "hello"})

    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("path", ["/messages/", "//messages", "/messages//", "/m%65ssages"])
def test_read_only_token_is_denied_posting_by_the_gateway_in_any_spelling_of_the_path(
    stack: Stack, path: str
) -> None:
    first_line = len(stack.lines)
    token = stack.token("messages:read")

    response = send_as_is(
        stack.api,
        "POST",
        path,
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        b"{}",
    )

    # Where the gateway routes the spelling to POST /messages, the authorizer's Deny answers it; the
    # others reach no route at all (docs/local-stack.md).
    decision = next(line for line in stack.lines[first_line:] if " · " in line).split(" · ")[1]
    if path in ("/messages/", "//messages"):
        assert decision.startswith("deny"), decision
        assert (response.status, response.json()["error"]) == (403, "insufficient_scope")
    else:
        assert decision == "no such route"
        assert response.status in (403, 404), response.body


@pytest.mark.parametrize(
    ("path", "host"),
    [
        ("/.well-known/oauth-protected-resource/", None),
        ("//.well-known/oauth-protected-resource", None),
        ("/.well-known/oauth-protected-resource", "not a host"),
    ],
)
def test_the_open_metadata_route_never_answers_a_server_error(
    stack: Stack, path: str, host: str | None
) -> None:
    response = send_as_is(stack.api, "GET", path, {"Host": host} if host else {})

    if host is None:
        assert (response.status, response.json()["resource"]) == (200, stack.api)
    else:  # the local gateway passes the client's Host header on as the domain name
        assert (response.status, response.json()["error"]) == (400, "invalid_request")


def test_tampered_token_is_401(stack: Stack) -> None:
    header, payload, signature = stack.token("messages:read").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scope"] = "messages:read messages:write"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()

    response = stack.call("POST", "/messages", f"{header}.{forged_payload}.{signature}", json={"text": "x"})

    assert response.status_code == 401


def test_expired_token_is_401(stack: Stack) -> None:
    stack.provider_clock.offset = -2 * 3600  # issued two hours ago with a one-hour lifetime
    expired = stack.token("messages:read")

    assert stack.call("GET", "/profile", expired).status_code == 401


def test_one_token_gets_the_right_answer_on_each_route_within_the_cache_ttl(stack: Stack) -> None:
    reader = stack.token("messages:read")
    first_line = len(stack.lines)

    answers = [
        stack.call("GET", "/profile", reader).status_code,
        stack.call("GET", "/messages", reader).status_code,
        stack.call("POST", "/messages", reader, json={"text": "no"}).status_code,
        stack.call("GET", "/profile", reader).status_code,
    ]

    assert answers == [200, 200, 403, 200]
    decisions = [line.split(" · ")[1] for line in stack.lines[first_line:] if " · " in line]
    assert decisions == [
        "allow (principal dev-client, authorizer called)",
        "allow (principal dev-client, cached)",
        "deny (principal dev-client, cached)",
        "allow (principal dev-client, cached)",
    ]
    writer = stack.token("messages:read messages:write")
    assert stack.call("POST", "/messages", writer, json={"text": "yes"}).status_code == 201
    assert stack.call("GET", "/messages", writer).status_code == 200


@pytest.mark.parametrize(
    ("request_kwargs", "status", "error"),
    [
        ({"auth": ("dev-client", "wrong")}, 401, "invalid_client"),
        ({"auth": ("nobody", "dev-secret")}, 401, "invalid_client"),
        ({"auth": None}, 401, "invalid_client"),
        ({"data": {"grant_type": "password"}}, 400, "unsupported_grant_type"),
        ({"data": {"scope": "messages:read"}}, 400, "invalid_request"),
        ({"data": {"grant_type": "client_credentials", "scope": "messages:delete"}}, 400, "invalid_scope"),
        ({"data": "grant_type=client_credentials&grant_type=client_credentials"}, 400, "invalid_request"),
        ({"json": {"grant_type": "client_credentials"}}, 400, "invalid_request"),
    ],
    ids=[
        "wrong-secret",
        "unknown-client",
        "no-client-authentication",
        "password-grant",
        "missing-grant-type",
        "scope-not-allowed",
        "repeated-parameter",
        "json-body",
    ],
)
def test_token_endpoint_errors_follow_rfc6749(
    stack: Stack, request_kwargs: dict[str, Any], status: int, error: str
) -> None:
    kwargs = {"auth": ("dev-client", "dev-secret")} | request_kwargs
    if "data" in kwargs or "json" in kwargs:
        response = requests.post(f"{stack.provider}/oauth2/token", timeout=10, **kwargs)
    else:
        response = stack.token_response(**kwargs)

    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.headers["Cache-Control"] == "no-store"
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_discovery_names_the_issuer_its_keys_and_token_endpoint(stack: Stack) -> None:
    discovery = requests.get(f"{stack.provider}/.well-known/openid-configuration", timeout=10).json()

    assert discovery == {
        "issuer": stack.provider,
        "authorization_endpoint": f"{stack.provider}/oauth2/authorize",
        "token_endpoint": f"{stack.provider}/oauth2/token",
        "jwks_uri": f"{stack.provider}/.well-known/jwks.json",
        "registration_endpoint": f"{stack.provider}/oauth2/register",
        "scopes_supported": ["messages:read", "messages:write", "offline_access"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "access_token_signing_alg_values_supported": ["RS256"],
    }
    oauth = requests.get(f"{stack.provider}/.well-known/oauth-authorization-server", timeout=10).json()
    assert oauth == discovery
    keys = requests.get(discovery["jwks_uri"], timeout=10).json()["keys"]
    assert [key["kid"] for key in keys] == [jwt.get_unverified_header(stack.token())["kid"]]
    assert all("d" not in key for key in keys)


def test_after_a_key_rotation_old_and_new_tokens_both_work(stack: Stack) -> None:
    old = stack.token("messages:read")
    assert stack.issuer_keys_rotate() != jwt.get_unverified_header(old)["kid"]
    new = stack.token("messages:read")

    assert stack.call("GET", "/profile", old).status_code == 200
    assert stack.call("GET", "/profile", new).status_code == 200
    jwks = requests.get(f"{stack.provider}/.well-known/jwks.json", timeout=10).json()
    assert {key["kid"] for key in jwks["keys"]} == {
        jwt.get_unverified_header(old)["kid"],
        jwt.get_unverified_header(new)["kid"],
    }


def test_make_token_prints_a_token_with_the_asked_scope(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    port = stack.provider.rsplit(":", 1)[1]

    assert local_main(["token", "--provider-port", port, "--scope", "messages:read"]) == 0

    token = capsys.readouterr().out.strip()
    assert jwt.decode(token, options={"verify_signature": False})["scope"] == "messages:read"
    assert stack.call("GET", "/messages", token).status_code == 200


def test_explain_needs_only_the_token_while_the_stack_runs_and_shows_each_routes_verdict(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the settings file `make dev` writes for its authorizer
    environment = authorizer_environment(stack.running)
    assert environment is not None
    settings = authorizer_env.write(environment, tmp_path / "authorizer-env.json")
    monkeypatch.delenv("ISSUER", raising=False)
    token = stack.token("messages:read")
    out = io.StringIO()

    # When a token from the running stack is explained with nothing else
    code = explain_main([token], stdout=out, stack_settings=settings)

    # Then the verdict is the stack's: valid, with the routes its scope lacks, and the context as strings
    text = out.getvalue()
    assert code == 0, text
    assert text.startswith(f"Settings of the local stack (make dev), from {settings}.\n")
    assert "  [ok]   GET /messages needs messages:read\n" in text
    assert "  [FAIL] POST /messages needs messages:write: missing messages:write -> 403\n" in text
    assert "  [ok]   valid token; 403 insufficient_scope on: POST /messages, DELETE /messages/{id}\n" in text
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    assert f'           "exp": "{exp}",\n' in text


#: Each route of the template, in the order the test calls them, and what its function answers.
SERVED = {
    ("GET", "/public", None): 200,
    ("GET", "/.well-known/oauth-protected-resource", None): 200,
    ("GET", "/profile", "JwtAuthorizer"): 200,
    ("GET", "/messages", "JwtAuthorizer"): 200,
    ("POST", "/messages", "JwtAuthorizer"): 201,
    ("GET", "/messages/{id}", "JwtAuthorizer"): 200,
    ("DELETE", "/messages/{id}", "JwtAuthorizer"): 204,
}


def test_the_template_routes_are_all_served(stack: Stack) -> None:
    routes = {(route.method, route.path, route.authorizer) for route in stack.running.api.routes}
    assert routes == set(SERVED)
    token = stack.token("messages:read messages:write")
    created: dict[str, Any] = {}

    for (method, resource, authorizer), status in SERVED.items():
        # The message the POST created is the one read and deleted.
        path = resource.replace("{id}", str(created.get("id")))
        body = {"text": "every route served"} if method == "POST" else None
        response = stack.call(method, path, token if authorizer else None, json=body)
        # A gateway's own answer (no such route, an authorizer's refusal) names its error type.
        assert (response.status_code, response.headers.get("x-amzn-ErrorType")) == (status, None), (
            method,
            path,
        )
        if method == "POST":
            created = response.json()
    unknown = stack.call("GET", "/no-such-route", token)
    assert unknown.headers.get("x-amzn-ErrorType") == "MissingAuthenticationTokenException"


@pytest.mark.parametrize(
    ("method", "path", "with_token"),
    [
        ("GET", "/no-such-route", False),
        ("GET", "/no-such-route", True),  # a valid token changes nothing: no authorizer runs
        ("PUT", "/messages", True),  # a route's path with a method it does not take
        ("POST", "/public", False),
        ("GET", "/messages/019b7ca9-8f2e-7000-8000-000000000000/extra", True),
    ],
)
def test_an_unknown_route_or_method_is_404_in_the_errors_shape(
    stack: Stack, method: str, path: str, with_token: bool
) -> None:
    response = stack.call(method, path, stack.token() if with_token else None)

    # template.yaml's MISSING_AUTHENTICATION_TOKEN gateway response, read by the local gateway.
    assert (response.status_code, response.json()) == (
        404,
        {
            "error": "not_found",
            "message": "No route matches this method and path",
            "requestId": response.headers["x-amzn-RequestId"],
        },
    )
    assert stack.lines[-1].startswith(f"{method} {path} → 404 in ")
    assert stack.lines[-1].endswith(" · no such route")


# The messages API: stored in the stack's DynamoDB, each caller's own to delete ------------------------


def client_token(stack: Stack, client: tuple[str, str], scope: str = "messages:read messages:write") -> str:
    response = stack.token_response(scope, auth=client)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


DEV = ("dev-client", "dev-secret")
WRITER = ("writer-client", "writer-secret")
READER = ("reader-client", "reader-secret")


def test_the_readme_flow_post_list_read_then_only_the_author_deletes(stack: Stack) -> None:
    author, other = client_token(stack, DEV), client_token(stack, WRITER)

    posted = stack.call("POST", "/messages", author, json={"text": "Hello from the quick start"})
    assert posted.status_code == 201
    message = posted.json()
    assert (message["text"], message["author"], message["authorIssuer"]) == (
        "Hello from the quick start",
        "dev-client",
        stack.provider,
    )

    listed = stack.call("GET", "/messages", author)
    assert listed.status_code == 200
    assert listed.json()["messages"][0] == message

    assert stack.call("GET", f"/messages/{message['id']}", other).json() == message

    refused = stack.call("DELETE", f"/messages/{message['id']}", other)
    assert (refused.status_code, refused.json()) == (
        403,
        {"error": "forbidden", "message": f"Only the author of message {message['id']} may delete it"},
    )
    assert stack.call("GET", f"/messages/{message['id']}", author).status_code == 200

    deleted = stack.call("DELETE", f"/messages/{message['id']}", author)
    assert (deleted.status_code, deleted.content) == (204, b"")

    gone = stack.call("GET", f"/messages/{message['id']}", author)
    assert (gone.status_code, gone.json()["error"]) == (404, "not_found")


def test_a_reader_is_denied_deleting_by_the_gateway_on_the_path_parameter_route(stack: Stack) -> None:
    message = stack.call("POST", "/messages", client_token(stack, DEV), json={"text": "keep me"}).json()
    reader = client_token(stack, READER, "messages:read")
    first_line = len(stack.lines)

    response = stack.call("DELETE", f"/messages/{message['id']}", reader)

    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    # The authorizer's Deny for DELETE /messages/{id} answered: the function was not invoked.
    decision = next(line for line in stack.lines[first_line:] if " · " in line).split(" · ")[1]
    assert decision.startswith("deny")
    assert stack.call("GET", f"/messages/{message['id']}", reader).status_code == 200


def test_pages_over_http_follow_next_until_it_is_null(stack: Stack) -> None:
    token = client_token(stack, DEV)
    texts = [f"page test {n}" for n in range(5)]
    for text in texts:
        assert stack.call("POST", "/messages", token, json={"text": text}).status_code == 201

    seen: list[str] = []
    cursor = None
    while len(seen) < len(texts):
        page = stack.call("GET", "/messages", token, params={"limit": 2, "cursor": cursor}).json()
        seen += [message["text"] for message in page["messages"]]
        cursor = page["next"]
        assert cursor is not None

    assert seen[: len(texts)] == texts[::-1]
    bad = stack.call("GET", "/messages", token, params={"limit": "many"})
    assert (bad.status_code, bad.json()["error"]) == (400, "invalid_request")
    bad_cursor = stack.call("GET", "/messages", token, params={"cursor": "not-ours"})
    assert (bad_cursor.status_code, bad_cursor.json()["error"]) == (400, "invalid_request")
    malformed = stack.call("GET", "/messages/not-an-id", token)
    assert (malformed.status_code, malformed.json()["error"]) == (400, "invalid_request")


def test_the_stacks_dynamodb_holds_the_templates_table(stack: Stack) -> None:
    import boto3

    assert stack.running.dynamodb_url is not None
    client = boto3.client(
        "dynamodb",
        endpoint_url=stack.running.dynamodb_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    table = client.describe_table(TableName="MessagesTable")["Table"]

    definition = stack.running.api.tables["MessagesTable"].properties
    assert table["KeySchema"] == definition["KeySchema"]
    assert [(i["IndexName"], i["KeySchema"]) for i in table["GlobalSecondaryIndexes"]] == [
        (i["IndexName"], i["KeySchema"]) for i in definition["GlobalSecondaryIndexes"]
    ]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert (
        client.describe_continuous_backups(TableName="MessagesTable")["ContinuousBackupsDescription"][
            "PointInTimeRecoveryDescription"
        ]["PointInTimeRecoveryStatus"]
        == "ENABLED"
    )
