"""The README's flow against the HTTP API variant (examples/http-api/template.yaml): its real handlers
behind the local gateway's HTTP API, with tokens from the local OpenID provider, on free ports.

The statuses and bodies are an HTTP API's (docs/http-api.md): API Gateway's own refusals are
{"message": ...} with no WWW-Authenticate (HTTP APIs have no gateway responses); the functions' own
answers keep the {"error", "message"} shape and their headers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from devkit.clock import FakeClock, OffsetWallClock
from local.stack import ROOT, LocalStack, StackOptions

TEMPLATE = ROOT / "examples" / "http-api" / "template.yaml"


@dataclass
class Stack:
    api: str
    provider: str
    lines: list[str]
    cache_clock: FakeClock
    provider_clock: OffsetWallClock

    def token(self, scope: str | None = None, client: tuple[str, str] = ("dev-client", "dev-secret")) -> str:
        data = {"grant_type": "client_credentials"} | ({"scope": scope} if scope is not None else {})
        response = requests.post(f"{self.provider}/oauth2/token", data=data, auth=client, timeout=10)
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])

    def call(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return requests.request(method, f"{self.api}{path}", headers=headers, timeout=10, **kwargs)

    def last_line(self, method: str, path: str) -> str:
        return next(line for line in reversed(self.lines) if line.startswith(f"{method} {path} "))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    lines: list[str] = []
    cache_clock, provider_clock = FakeClock(), OffsetWallClock()
    options = StackOptions(
        template=TEMPLATE,
        api_port=0,
        provider_port=0,
        key_file=tmp_path_factory.mktemp("keys") / "provider-keys.json",
    )
    running = LocalStack(options, log=lines.append, clock=cache_clock, provider_now=provider_clock)
    running.start()
    assert running.provider_url is not None
    try:
        yield Stack(running.api_url, running.provider_url, lines, cache_clock, provider_clock)
    finally:
        running.stop()


@pytest.fixture(autouse=True)
def _fresh_clocks(stack: Stack) -> Iterator[None]:
    stack.cache_clock.advance(3600)  # every test starts with an empty authorizer result cache
    yield
    stack.provider_clock.offset = 0.0


def test_the_public_route_answers_200_without_a_token(stack: Stack) -> None:
    response = stack.call("GET", "/public")

    assert (response.status_code, response.json()) == (
        200,
        {"message": "Hello! This route is public: no token needed."},
    )


def test_no_token_is_api_gateways_401_without_a_challenge_the_authorizer_not_called(stack: Stack) -> None:
    response = stack.call("GET", "/profile")

    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})
    assert "WWW-Authenticate" not in response.headers
    assert "authorizer not called" in stack.last_line("GET", "/profile")


@pytest.mark.parametrize("token", ["not-a-jwt", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"])
def test_a_bad_token_is_401(stack: Stack, token: str) -> None:
    response = stack.call("GET", "/profile", token)

    assert (response.status_code, response.json()) == (401, {"message": "Unauthorized"})
    assert stack.last_line("GET", "/profile").endswith("· unauthorized")


def test_an_expired_token_is_401(stack: Stack) -> None:
    stack.provider_clock.offset = -2 * 3600  # issued two hours ago with a one-hour lifetime
    expired = stack.token("messages:read")

    assert stack.call("GET", "/profile", expired).status_code == 401


def test_the_discovery_route_names_the_api_its_issuer_and_scopes(stack: Stack) -> None:
    response = stack.call("GET", "/.well-known/oauth-protected-resource")

    assert response.status_code == 200
    assert response.json() == {
        "resource": stack.api,
        "authorization_servers": [stack.provider],
        "scopes_supported": ["messages:read", "messages:write"],
        "bearer_methods_supported": ["header"],
    }


def test_a_read_token_reads_and_its_cached_answer_still_denies_the_write_route_403(stack: Stack) -> None:
    read = stack.token("messages:read")

    profile = stack.call("GET", "/profile", read)
    assert profile.status_code == 200
    assert (profile.json()["sub"], profile.json()["scopes"]) == ("dev-client", ["messages:read"])
    assert stack.call("GET", "/messages", read).status_code == 200
    # The cached answer, from the first call, is a policy for the whole API: it denies this route.
    response = stack.call("POST", "/messages", read, json={"text": "hello"})

    assert (response.status_code, response.json()) == (403, {"message": "Forbidden"})
    assert "cached" in stack.last_line("POST", "/messages")
    assert stack.last_line("GET", "/profile").endswith("authorizer called)")


def test_a_write_token_posts_201_and_only_the_author_deletes(stack: Stack) -> None:
    token = stack.token()
    created = stack.call("POST", "/messages", token, json={"text": "hello"})
    assert created.status_code == 201, created.text
    message = created.json()
    assert (message["text"], message["author"]) == ("hello", "dev-client")
    assert message["authorIssuer"] == stack.provider

    read = stack.call("GET", f"/messages/{message['id']}", token)
    assert (read.status_code, read.json()) == (200, message)
    listed = stack.call("GET", "/messages?limit=1", token)
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["messages"]] == [message["id"]]

    other = stack.token(client=("writer-client", "writer-secret"))
    refused = stack.call("DELETE", f"/messages/{message['id']}", other)
    assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")

    deleted = stack.call("DELETE", f"/messages/{message['id']}", token)
    assert (deleted.status_code, deleted.content) == (204, b"")
    gone = stack.call("GET", f"/messages/{message['id']}", token)
    assert (gone.status_code, gone.json()["error"]) == (404, "not_found")


def test_a_reader_is_denied_deleting_by_the_authorizer_on_the_path_parameter_route(stack: Stack) -> None:
    read = stack.token("messages:read")

    path = "/messages/019b7ca9-8f2e-7000-8000-000000000000"
    response = stack.call("DELETE", path, read)

    assert (response.status_code, response.json()) == (403, {"message": "Forbidden"})
    assert "· deny (principal dev-client" in stack.last_line("DELETE", path)


@pytest.mark.parametrize(("method", "path"), [("PUT", "/messages"), ("GET", "/nowhere"), ("GET", "/")])
def test_a_route_that_does_not_exist_is_404_not_found_token_or_not(
    stack: Stack, method: str, path: str
) -> None:
    for token in (None, stack.token()):
        response = stack.call(method, path, token)

        assert (response.status_code, response.json()) == (404, {"message": "Not Found"})
