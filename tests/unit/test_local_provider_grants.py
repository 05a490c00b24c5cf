"""The local provider as an authorization server, without HTTP: metadata, the authorization code grant with
PKCE behind the sign-in page, refresh tokens, resource indicators, scope narrowing and registration."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest

from devkit.clock import FakeClock
from local.provider import ConfigError, KeyStore, ProviderConfig, Reply, TokenIssuer
from local.stack import StackOptions

ISSUER = "http://127.0.0.1:3001"
API = "http://127.0.0.1:3000"
FORM = "application/x-www-form-urlencoded"
CALLBACK = "http://127.0.0.1:8765/callback"
VERIFIER = "v" * 43 + "-._~0123456789"
CHALLENGE = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
BOTH = frozenset({"messages:read", "messages:write"})
CONFIG = ProviderConfig.parse(
    {
        "audience": "api://messages",
        "token_lifetime_seconds": 600,
        "scopes": ["messages:read", "messages:write"],
        "clients": {
            "reader-client": {"secret": "reader-secret", "scopes": ["messages:read"]},
            "app": {"redirect_uris": [CALLBACK], "scopes": ["messages:read", "messages:write"]},
            "web": {"secret": "web-secret", "redirect_uris": [CALLBACK], "scopes": ["messages:read"]},
        },
        "users": {
            "alice": {"name": "Alice", "scopes": ["messages:read", "messages:write"]},
            "bob": {"name": "Bob", "scopes": ["messages:read"]},
        },
    }
)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> KeyStore:
    # One signing key for the module: generating RSA keys is the slow part of these tests.
    return KeyStore(tmp_path_factory.mktemp("provider") / "keys.json")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1_800_000_000.0)


@pytest.fixture
def issuer(keys: KeyStore, clock: FakeClock) -> TokenIssuer:
    return TokenIssuer(ISSUER, CONFIG, keys, now=clock, resources=(API,))


def claims(token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return decoded


class _Form(HTMLParser):
    """The sign-in page's hidden fields and the users its buttons sign in as."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.users: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "input" and attributes.get("type") == "hidden":
            self.fields[attributes["name"]] = attributes["value"]
        if tag == "button" and attributes.get("name") == "user":
            self.users.append(attributes["value"])


def page_form(reply: Reply) -> _Form:
    assert reply.status == 200
    assert reply.page is not None
    form = _Form()
    form.feed(reply.page)
    return form


def redirected(reply: Reply) -> dict[str, str]:
    """The parameters of a redirect to CALLBACK."""
    assert reply.status == 302
    location = dict(reply.headers)["Location"]
    assert location.startswith(f"{CALLBACK}?")
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def authorize(issuer: TokenIssuer, **overrides: str) -> dict[str, str]:
    """A valid authorization request for the public client `app`, with any parameter changed."""
    params = {
        "response_type": "code",
        "client_id": "app",
        "redirect_uri": CALLBACK,
        "state": "s-1",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        "scope": "messages:read messages:write offline_access",
        "resource": API,
    } | overrides
    return {name: value for name, value in params.items() if value != "-"}


def sign_in(issuer: TokenIssuer, user: str, **overrides: str) -> dict[str, str]:
    """Open the sign-in page as a browser would, press the user's button: the redirect's parameters."""
    form = page_form(issuer.authorization_page(urlencode(authorize(issuer, **overrides))))
    assert user in form.users
    return redirected(issuer.sign_in(FORM, urlencode(form.fields | {"user": user}).encode()))


def token(issuer: TokenIssuer, fields: dict[str, str], authorization: str | None = None) -> Reply:
    return issuer.token_reply(FORM, urlencode(fields).encode(), authorization)


def exchange(issuer: TokenIssuer, code: str, **overrides: str) -> Reply:
    fields = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": "app",
        "code_verifier": VERIFIER,
        "resource": API,
    } | overrides
    return token(issuer, {name: value for name, value in fields.items() if value != "-"})


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def error_of(reply: Reply) -> str:
    return str(reply.body["error"])


def body(reply: Reply) -> dict[str, Any]:
    assert reply.status in (200, 201), reply.body
    return reply.body


# Metadata ----------------------------------------------------------------------------------------------


def test_metadata_has_every_rfc_8414_required_member_and_every_endpoint_served(issuer: TokenIssuer) -> None:
    metadata = issuer.discovery()

    # RFC 8414 section 2: issuer, response_types_supported and (with the code grant) the authorization
    # and token endpoints are REQUIRED; jwks_uri and registration_endpoint name what is served.
    assert {
        name: metadata[name]
        for name in (
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
            "registration_endpoint",
            "response_types_supported",
            "code_challenge_methods_supported",
            "grant_types_supported",
        )
    } == {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/oauth2/authorize",
        "token_endpoint": f"{ISSUER}/oauth2/token",
        "jwks_uri": f"{ISSUER}/.well-known/jwks.json",
        "registration_endpoint": f"{ISSUER}/oauth2/register",
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
    }


# The authorization code grant with PKCE -----------------------------------------------------------------


def test_the_code_flow_gives_the_signed_in_user_a_token_for_the_resource_and_a_refresh_token(
    issuer: TokenIssuer,
) -> None:
    answer = sign_in(issuer, "alice")
    assert (answer["state"], answer["iss"]) == ("s-1", ISSUER)  # RFC 9207

    granted = body(exchange(issuer, answer["code"]))

    assert granted["scope"] == "messages:read messages:write offline_access"
    assert granted["refresh_token"]
    token_claims = claims(granted["access_token"])
    assert {name: token_claims[name] for name in ("iss", "aud", "sub", "client_id", "scope")} == {
        "iss": ISSUER,
        "aud": API,
        "sub": "alice",
        "client_id": "app",
        "scope": "messages:read messages:write offline_access",
    }


def test_a_user_who_may_only_read_grants_a_read_only_token_and_the_response_says_so(
    issuer: TokenIssuer,
) -> None:
    granted = body(exchange(issuer, sign_in(issuer, "bob", scope="messages:read messages:write")["code"]))

    assert granted["scope"] == "messages:read"
    assert "refresh_token" not in granted  # no offline_access asked for
    assert claims(granted["access_token"])["scope"] == "messages:read"


def test_a_code_is_good_once(issuer: TokenIssuer) -> None:
    code = sign_in(issuer, "alice")["code"]
    assert exchange(issuer, code).status == 200

    assert error_of(exchange(issuer, code)) == "invalid_grant"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"code_verifier": "w" * 43}, "invalid_grant"),
        ({"code_verifier": "-"}, "invalid_request"),
        ({"code_verifier": "short"}, "invalid_request"),
        ({"redirect_uri": "http://127.0.0.1:8765/other"}, "invalid_grant"),
        ({"redirect_uri": "-"}, "invalid_grant"),
        ({"resource": "api://messages"}, "invalid_target"),
        ({"client_id": "web"}, "invalid_client"),  # confidential: must authenticate
    ],
)
def test_the_code_exchange_checks_verifier_redirect_uri_resource_and_client(
    issuer: TokenIssuer, change: dict[str, str], error: str
) -> None:
    code = sign_in(issuer, "alice")["code"]

    assert error_of(exchange(issuer, code, **change)) == error


def test_a_code_expires_after_a_minute(issuer: TokenIssuer, clock: FakeClock) -> None:
    code = sign_in(issuer, "alice")["code"]
    clock.advance(60)

    assert error_of(exchange(issuer, code)) == "invalid_grant"


def test_a_confidential_client_authenticates_its_code_exchange(issuer: TokenIssuer) -> None:
    code = sign_in(issuer, "alice", client_id="web", scope="messages:read")["code"]
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK}

    granted = token(issuer, fields | {"code_verifier": VERIFIER}, basic("web", "web-secret"))

    assert body(granted)["scope"] == "messages:read"


@pytest.mark.parametrize(
    "change",
    [
        {"client_id": "nobody"},
        {"redirect_uri": "http://127.0.0.1:9999/callback"},
        {"client_id": "reader-client"},
    ],
)
def test_an_unknown_client_or_redirect_uri_gets_a_page_never_a_redirect(
    issuer: TokenIssuer, change: dict[str, str]
) -> None:
    reply = issuer.authorization_page(urlencode(authorize(issuer, **change)))

    assert reply.status == 400
    assert "Location" not in dict(reply.headers)
    assert reply.page is not None
    assert "not valid" in reply.page


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge_method": "-"}, "invalid_request"),  # RFC 7636 would default to plain
        ({"code_challenge": "-"}, "invalid_request"),
        ({"code_challenge": "not-a-digest"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"resource": "https://evil.example/"}, "invalid_target"),
        ({"scope": "a  b"}, "invalid_scope"),
    ],
)
def test_a_bad_authorization_request_is_sent_back_with_its_error_and_state(
    issuer: TokenIssuer, change: dict[str, str], error: str
) -> None:
    answer = redirected(issuer.authorization_page(urlencode(authorize(issuer, **change))))

    assert (answer["error"], answer["state"], answer["iss"]) == (error, "s-1", ISSUER)
    assert "code" not in answer


def test_declining_or_asking_only_for_what_the_user_may_not_grant_redirects_with_an_error(
    issuer: TokenIssuer,
) -> None:
    form = page_form(issuer.authorization_page(urlencode(authorize(issuer))))
    declined = redirected(issuer.sign_in(FORM, urlencode(form.fields | {"deny": "1"}).encode()))
    assert declined["error"] == "access_denied"

    refused = sign_in(issuer, "bob", scope="messages:write")

    assert refused["error"] == "invalid_scope"


def test_the_sign_in_page_escapes_what_the_request_carries(issuer: TokenIssuer) -> None:
    reply = issuer.authorization_page(urlencode(authorize(issuer, state='"><script>x</script>')))

    assert reply.page is not None
    assert "<script>" not in reply.page
    assert page_form(reply).fields["state"] == '"><script>x</script>'
    assert ("X-Frame-Options", "DENY") in reply.headers


# Refresh tokens -----------------------------------------------------------------------------------------


def test_a_refresh_token_is_rotated_may_narrow_and_may_not_widen(issuer: TokenIssuer) -> None:
    first = body(exchange(issuer, sign_in(issuer, "alice")["code"]))
    refresh = {"grant_type": "refresh_token", "client_id": "app"}

    narrowed = body(
        token(issuer, refresh | {"refresh_token": first["refresh_token"], "scope": "messages:read"})
    )
    assert narrowed["scope"] == "messages:read"
    assert claims(narrowed["access_token"])["aud"] == API
    # The old one is spent; the new one still stands for the whole grant.
    assert error_of(token(issuer, refresh | {"refresh_token": first["refresh_token"]})) == "invalid_grant"
    again = body(token(issuer, refresh | {"refresh_token": narrowed["refresh_token"]}))
    assert again["scope"] == "messages:read messages:write offline_access"

    bob = body(exchange(issuer, sign_in(issuer, "bob", scope="messages:read offline_access")["code"]))
    widened = token(issuer, refresh | {"refresh_token": bob["refresh_token"], "scope": "messages:write"})
    assert error_of(widened) == "invalid_scope"


def test_a_refresh_token_is_only_its_clients(issuer: TokenIssuer) -> None:
    granted = body(exchange(issuer, sign_in(issuer, "alice")["code"]))
    fields = {"grant_type": "refresh_token", "refresh_token": granted["refresh_token"]}

    assert error_of(token(issuer, fields, basic("web", "web-secret"))) == "invalid_grant"


# Client credentials: scope narrowing (RFC 6749 section 3.3) and resources (RFC 8707) ----------------------


def test_a_reader_asking_for_every_scope_gets_a_read_only_token_and_the_response_says_so(
    issuer: TokenIssuer,
) -> None:
    fields = {"grant_type": "client_credentials", "scope": "messages:read messages:write offline_access"}

    granted = body(token(issuer, fields | {"resource": API}, basic("reader-client", "reader-secret")))

    assert granted["scope"] == "messages:read"
    assert "refresh_token" not in granted  # RFC 6749 section 4.4.3
    assert {name: claims(granted["access_token"])[name] for name in ("aud", "sub", "scope")} == {
        "aud": API,
        "sub": "reader-client",
        "scope": "messages:read",
    }


@pytest.mark.parametrize(
    ("extra", "outcome"),
    [
        ({}, "api://messages"),
        ({"resource": API}, API),
        ({"resource": "https://evil.example/"}, "invalid_target"),
        ({"resource": f"{API}/"}, "invalid_target"),  # exact match: the authorizer compares aud exactly
        ({"scope": "messages:write"}, "invalid_scope"),
        ({"scope": "unknown:scope"}, "invalid_scope"),
    ],
)
def test_client_credentials_audience_is_the_resource_asked_for_when_known(
    issuer: TokenIssuer, extra: dict[str, str], outcome: str
) -> None:
    reply = token(
        issuer, {"grant_type": "client_credentials"} | extra, basic("reader-client", "reader-secret")
    )

    if reply.status == 200:
        assert claims(body(reply)["access_token"])["aud"] == outcome
    else:
        assert error_of(reply) == outcome


def test_two_resources_in_one_request_are_invalid_target(issuer: TokenIssuer) -> None:
    form = f"grant_type=client_credentials&resource={API}&resource=api://messages".encode()

    reply = issuer.token_reply(FORM, form, basic("reader-client", "reader-secret"))

    assert error_of(reply) == "invalid_target"


# Dynamic client registration (RFC 7591) -----------------------------------------------------------------


def register(issuer: TokenIssuer, **metadata: Any) -> Reply:
    document = {"redirect_uris": ["http://localhost:4567/cb"], "client_name": "an MCP client"} | metadata
    return issuer.register_reply("application/json", json.dumps(document).encode())


def test_a_registered_client_signs_a_user_in_and_never_gets_client_credentials(issuer: TokenIssuer) -> None:
    registered = register(issuer, grant_types=["authorization_code", "refresh_token"])
    assert registered.status == 201
    client = body(registered)
    assert client["token_endpoint_auth_method"] == "client_secret_basic"  # RFC 7591's default
    assert re.fullmatch(r"registered-[0-9a-f]{16}", client["client_id"])
    credentials = basic(client["client_id"], client["client_secret"])

    form = page_form(
        issuer.authorization_page(
            urlencode(
                authorize(issuer, client_id=client["client_id"], redirect_uri="http://localhost:4567/cb")
            )
        )
    )
    location = dict(issuer.sign_in(FORM, urlencode(form.fields | {"user": "bob"}).encode()).headers)[
        "Location"
    ]
    code = parse_qs(urlsplit(location).query)["code"][0]
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": "http://localhost:4567/cb"}
    granted = token(issuer, fields | {"code_verifier": VERIFIER}, credentials)
    assert body(granted)["scope"] == "messages:read offline_access"

    assert error_of(token(issuer, {"grant_type": "client_credentials"}, credentials)) == "unauthorized_client"


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"redirect_uris": ["https://evil.example/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["http://127.0.0.1:4567/cb#x"]}, "invalid_redirect_uri"),
        ({"redirect_uris": []}, "invalid_redirect_uri"),
        ({"grant_types": ["client_credentials"]}, "invalid_client_metadata"),
        ({"response_types": ["token"]}, "invalid_client_metadata"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
        ({"scope": "admin"}, "invalid_client_metadata"),
    ],
)
def test_registration_refuses_what_a_local_client_cannot_be(
    issuer: TokenIssuer, metadata: dict[str, Any], error: str
) -> None:
    reply = register(issuer, **metadata)

    assert (reply.status, error_of(reply)) == (400, error)


def test_a_public_registered_client_gets_no_secret(issuer: TokenIssuer) -> None:
    client = body(register(issuer, token_endpoint_auth_method="none", scope="messages:read"))

    assert "client_secret" not in client
    assert client["scope"] == "messages:read"


# Configuration ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"clients": {"c": {"scopes": ["a"]}}}, "clients.c"),
        ({"clients": {"c": {"redirect_uris": ["https://example.com/cb"], "scopes": ["a"]}}}, "redirect_uris"),
        ({"users": {"u": {"scopes": ["b"]}}}, "users.u.scopes"),
        ({"users": {}}, "'users'"),
        ({"scopes": ["a", "offline_access"]}, "offline_access"),
        ({"refresh_token_lifetime_seconds": 10}, "'refresh_token_lifetime_seconds'"),
    ],
)
def test_a_bad_config_names_the_field(change: dict[str, Any], named: str) -> None:
    document = {
        "audience": "api://x",
        "scopes": ["a"],
        "clients": {"c": {"redirect_uris": [CALLBACK], "scopes": ["a"]}},
        "users": {"u": {"scopes": ["a"]}},
    } | change

    with pytest.raises(ConfigError, match=named):
        ProviderConfig.parse(json.loads(json.dumps(document)))


def test_the_shipped_config_has_a_public_app_and_a_reader_user() -> None:
    config = ProviderConfig.load(StackOptions().provider_config)

    assert config.clients["dev-app"].secret is None
    assert config.clients["dev-app"].grant_types == {"authorization_code", "refresh_token"}
    assert config.users["bob"].scopes == {"messages:read"}
    assert config.users["alice"].scopes == BOTH
