"""Real OAuth clients, unchanged, against the local stack: the official MCP Python SDK's OAuth client and
authlib's. Each starts from the API's URL (the MCP SDK alone discovers everything from it), gets a token
from the local provider and calls the API; the SDK's requests are recorded and held to the flow of
docs/discovery.md. No workaround is needed for either library: what each test does beyond the library's
own calls (following the sign-in page, reading RFC 9728 metadata for authlib) is what a browser or the
application does."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from mcp.client.auth import OAuthClientProvider
from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)
from pydantic import AnyUrl

from local.stack import LocalStack, StackOptions
from tests.support.discovery import challenge_parameters

# Never contacted: the test reads the code from the redirect, as a client's local callback server would.
CALLBACK = "http://127.0.0.1:8765/callback"


@dataclass(frozen=True)
class Stack:
    api: str
    provider: str
    log: list[str]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    log: list[str] = []
    options = StackOptions(
        api_port=0, provider_port=0, key_file=tmp_path_factory.mktemp("keys") / "provider-keys.json"
    )
    running = LocalStack(options, log=log.append)
    running.start()
    assert running.provider_url is not None
    try:
        yield Stack(running.api_url, running.provider_url, log)
    finally:
        running.stop()


def claims(access_token: str) -> dict[str, Any]:
    """The token's payload, read without verifying: the API has verified it by answering 200."""
    payload = access_token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded


# The MCP Python SDK -------------------------------------------------------------------------------------


class MemoryStorage:
    """The SDK's TokenStorage protocol, in memory: a client that has never connected holds nothing."""

    def __init__(self, client_info: OAuthClientInformationFull | None = None) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info = client_info

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


@dataclass
class Exchange:
    """Every request the SDK's HTTP client sent, with its answer: (method, URL, status, form fields)."""

    seen: list[tuple[str, str, int, dict[str, str]]] = field(default_factory=list)

    async def response(self, response: httpx2.Response) -> None:
        request = response.request
        form: dict[str, str] = {}
        if request.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            form = {name: values[0] for name, values in parse_qs(request.content.decode()).items()}
        self.seen.append((request.method, str(request.url).split("?")[0], response.status_code, form))

    def steps(self) -> list[tuple[str, str, int]]:
        return [(method, url, status) for method, url, status, _ in self.seen]

    def form_of(self, url: str) -> dict[str, str]:
        [form] = [form for _, seen_url, _, form in self.seen if seen_url == url]
        return form


def sdk_flow(stack: Stack, *getting_a_token: tuple[str, str, int]) -> list[tuple[str, str, int]]:
    """The requests of docs/discovery.md's flow: the 401, the resource's metadata, the authorization
    server's metadata, the requests that get a token, then the three calls of `call_api` again."""
    return [
        ("GET", f"{stack.api}/profile", 401),
        ("GET", f"{stack.api}/.well-known/oauth-protected-resource", 200),
        ("GET", f"{stack.provider}/.well-known/oauth-authorization-server", 200),
        *getting_a_token,
        ("GET", f"{stack.api}/profile", 200),
        ("GET", f"{stack.api}/messages", 200),
        ("POST", f"{stack.api}/messages", 201),
    ]


async def call_api(
    auth: httpx2.Auth, api: str, exchange: Exchange, writes: bool = True
) -> dict[str, httpx2.Response]:
    async with httpx2.AsyncClient(auth=auth, event_hooks={"response": [exchange.response]}) as client:
        answers = {"GET /profile": await client.get(f"{api}/profile")}
        answers["GET /messages"] = await client.get(f"{api}/messages")
        if writes:
            answers["POST /messages"] = await client.post(f"{api}/messages", json={"text": "from the SDK"})
        return answers


def test_the_mcp_sdk_client_credentials_provider_needs_only_the_api_url_its_credentials_and_the_issuer(
    stack: Stack,
) -> None:
    exchange = Exchange()
    auth = ClientCredentialsOAuthProvider(
        server_url=stack.api,
        storage=MemoryStorage(),
        client_id="dev-client",
        client_secret="dev-secret",
        issuer=stack.provider,
    )

    answers = anyio.run(call_api, auth, stack.api, exchange)

    assert {call: answer.status_code for call, answer in answers.items()} == {
        "GET /profile": 200,
        "GET /messages": 200,
        "POST /messages": 201,
    }
    assert answers["GET /profile"].json()["sub"] == "dev-client"
    token_url = f"{stack.provider}/oauth2/token"
    assert exchange.steps() == sdk_flow(stack, ("POST", token_url, 200))
    # With no scope in the challenge, the SDK asks for every scope of the metadata, for this resource.
    assert exchange.form_of(token_url) == {
        "grant_type": "client_credentials",
        "resource": stack.api,
        "scope": "messages:read messages:write",
    }


def test_a_reader_client_through_the_mcp_sdk_gets_a_read_only_token_not_an_error(stack: Stack) -> None:
    exchange = Exchange()
    storage = MemoryStorage()
    auth = ClientCredentialsOAuthProvider(
        server_url=stack.api,
        storage=storage,
        client_id="reader-client",
        client_secret="reader-secret",
        issuer=stack.provider,
    )

    answers = anyio.run(call_api, auth, stack.api, exchange)

    assert {call: answer.status_code for call, answer in answers.items()} == {
        "GET /profile": 200,
        "GET /messages": 200,
        "POST /messages": 403,  # the SDK tried a step-up once; the reader may not write
    }
    assert storage.tokens is not None
    assert storage.tokens.scope == "messages:read"  # RFC 6749 section 3.3: narrowed, and said so
    assert claims(storage.tokens.access_token)["aud"] == stack.api
    challenge = challenge_parameters(answers["POST /messages"].headers["WWW-Authenticate"])
    assert challenge["error"] == "insufficient_scope"


class SignInPage(HTMLParser):
    """The local sign-in page's form: its action, hidden fields and the users its buttons sign in as."""

    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}
        self.users: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.action = attributes["action"]
        elif tag == "input" and attributes.get("type") == "hidden":
            self.fields[attributes["name"]] = attributes["value"]
        elif tag == "button" and attributes.get("name") == "user":
            self.users.append(attributes["value"])


def follow_sign_in(authorization_url: str, user: str) -> str:
    """What the user's browser does: open the page, press "Sign in as <user>"; the redirect's URL."""
    page = requests.get(authorization_url, timeout=10)
    assert page.status_code == 200, page.text
    form = SignInPage()
    form.feed(page.text)
    assert user in form.users
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(authorization_url))
    signed_in = requests.post(
        f"{origin}{form.action}", data=form.fields | {"user": user}, allow_redirects=False, timeout=10
    )
    assert signed_in.status_code == 302, signed_in.text
    return signed_in.headers["Location"]


class HeadlessBrowser:
    """The SDK's redirect and callback handlers, driven without a browser: the redirect handler follows
    the sign-in page with an HTTP client, the callback handler hands the SDK the code it redirected to."""

    def __init__(self, user: str) -> None:
        self.user = user
        self.redirected_to: list[str] = []

    async def redirect_handler(self, authorization_url: str) -> None:
        self.redirected_to.append(
            await anyio.to_thread.run_sync(follow_sign_in, authorization_url, self.user)
        )

    async def callback_handler(self) -> AuthorizationCodeResult:
        location = self.redirected_to[-1]
        assert location.startswith(f"{CALLBACK}?")
        answer = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
        return AuthorizationCodeResult(code=answer["code"], state=answer.get("state"), iss=answer.get("iss"))


def code_flow_provider(stack: Stack, browser: HeadlessBrowser, storage: MemoryStorage) -> OAuthClientProvider:
    return OAuthClientProvider(
        server_url=stack.api,
        client_metadata=OAuthClientMetadata(redirect_uris=[AnyUrl(CALLBACK)], client_name="e2e MCP client"),
        storage=storage,
        redirect_handler=browser.redirect_handler,
        callback_handler=browser.callback_handler,
    )


def test_the_mcp_sdk_authorization_code_flow_registers_signs_in_and_calls_the_api_headlessly(
    stack: Stack,
) -> None:
    exchange = Exchange()
    browser = HeadlessBrowser("alice")
    storage = MemoryStorage()  # a client that has never connected: it registers (RFC 7591)

    answers = anyio.run(call_api, code_flow_provider(stack, browser, storage), stack.api, exchange)

    assert {call: answer.status_code for call, answer in answers.items()} == {
        "GET /profile": 200,
        "GET /messages": 200,
        "POST /messages": 201,
    }
    assert answers["GET /profile"].json()["sub"] == "alice"
    token_url = f"{stack.provider}/oauth2/token"
    register = ("POST", f"{stack.provider}/oauth2/register", 201)
    assert exchange.steps() == sdk_flow(stack, register, ("POST", token_url, 200))
    form = exchange.form_of(token_url)
    assert storage.client_info is not None
    assert {name: form[name] for name in ("grant_type", "redirect_uri", "resource")} == {
        "grant_type": "authorization_code",
        "redirect_uri": CALLBACK,
        "resource": stack.api,
    }
    # The SDK asks for offline_access, which the metadata lists, and gets a refresh token.
    assert storage.tokens is not None
    assert storage.tokens.scope == "messages:read messages:write offline_access"
    assert storage.tokens.refresh_token
    [authorization] = [line for line in stack.log if line.startswith("POST /oauth2/authorize")]
    assert authorization == "POST /oauth2/authorize → 302 redirect (code)"


def test_the_mcp_sdk_refreshes_an_expired_token_with_its_refresh_token(stack: Stack) -> None:
    browser = HeadlessBrowser("alice")
    storage = MemoryStorage()
    auth = code_flow_provider(stack, browser, storage)
    anyio.run(call_api, auth, stack.api, Exchange(), False)
    first = storage.tokens
    assert first is not None
    auth.context.token_expiry_time = 1.0  # as if an hour had passed: the SDK refreshes before it calls

    exchange = Exchange()
    answers = anyio.run(call_api, auth, stack.api, exchange, False)

    assert [answer.status_code for answer in answers.values()] == [200, 200]
    assert exchange.steps()[0] == ("POST", f"{stack.provider}/oauth2/token", 200)
    assert exchange.seen[0][3]["grant_type"] == "refresh_token"
    assert storage.tokens is not None
    assert storage.tokens.refresh_token not in (None, first.refresh_token)  # rotated
    assert len(browser.redirected_to) == 1  # nobody had to sign in again


def test_a_user_who_may_only_read_gets_the_mcp_sdk_a_read_only_token(stack: Stack) -> None:
    browser = HeadlessBrowser("bob")
    storage = MemoryStorage()

    answers = anyio.run(call_api, code_flow_provider(stack, browser, storage), stack.api, Exchange(), False)

    assert [answer.status_code for answer in answers.values()] == [200, 200]
    assert storage.tokens is not None
    assert storage.tokens.scope == "messages:read offline_access"


# authlib ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Discovered:
    resource: str
    token_endpoint: str
    authorization_endpoint: str


def discover(api: str) -> Discovered:
    """authlib has no RFC 9728 client: the application follows the 401 to the metadata itself."""
    challenge = challenge_parameters(requests.get(f"{api}/profile", timeout=10).headers["WWW-Authenticate"])
    resource = requests.get(challenge["resource_metadata"], timeout=10).json()
    [issuer] = resource["authorization_servers"]
    server = requests.get(f"{issuer}/.well-known/oauth-authorization-server", timeout=10).json()
    assert server["issuer"] == issuer
    return Discovered(resource["resource"], server["token_endpoint"], server["authorization_endpoint"])


def test_authlib_client_credentials_for_a_reader_get_a_read_only_token_for_the_api(stack: Stack) -> None:
    found = discover(stack.api)
    session = OAuth2Session("reader-client", "reader-secret", scope="messages:read messages:write")

    token = session.fetch_token(
        found.token_endpoint, grant_type="client_credentials", resource=found.resource
    )

    assert token["scope"] == "messages:read"
    assert claims(token["access_token"])["aud"] == stack.api
    assert session.get(f"{stack.api}/profile", timeout=10).status_code == 200
    assert session.get(f"{stack.api}/messages", timeout=10).status_code == 200
    assert session.post(f"{stack.api}/messages", json={"text": "x"}, timeout=10).status_code == 403


def test_authlib_authorization_code_with_pkce_signs_in_calls_the_api_and_refreshes(stack: Stack) -> None:
    found = discover(stack.api)
    # dev-app is a public client of local/provider.json: PKCE is its proof, no secret.
    session = OAuth2Session(
        "dev-app",
        redirect_uri=CALLBACK,
        scope="messages:read messages:write offline_access",
        code_challenge_method="S256",
        token_endpoint_auth_method="none",
    )
    verifier = secrets.token_urlsafe(48)
    url, state = session.create_authorization_url(
        found.authorization_endpoint, code_verifier=verifier, resource=found.resource
    )

    redirected_to = follow_sign_in(url, "alice")
    token = session.fetch_token(
        found.token_endpoint,
        authorization_response=redirected_to,
        state=state,
        code_verifier=verifier,
        resource=found.resource,
    )

    assert token["scope"] == "messages:read messages:write offline_access"
    assert claims(token["access_token"])["sub"] == "alice"
    assert session.get(f"{stack.api}/profile", timeout=10).json()["sub"] == "alice"
    assert session.post(f"{stack.api}/messages", json={"text": "x"}, timeout=10).status_code == 201
    refreshed = session.refresh_token(found.token_endpoint, resource=found.resource)
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert session.get(f"{stack.api}/messages", timeout=10).status_code == 200


def test_a_resource_the_provider_does_not_serve_is_refused_to_authlib(stack: Stack) -> None:
    found = discover(stack.api)
    session = OAuth2Session("dev-client", "dev-secret")

    with pytest.raises(Exception, match="invalid_target"):
        session.fetch_token(
            found.token_endpoint, grant_type="client_credentials", resource="https://evil.example/"
        )
