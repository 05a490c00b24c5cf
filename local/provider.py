"""A local OAuth 2.0 authorization server for development: metadata, JWKS, sign-in and token endpoints.

It serves RFC 8414 metadata (also at the OpenID Connect discovery URL), the authorization code grant with
PKCE (S256) behind a one-page sign-in with no passwords, refresh tokens for `offline_access`, the client
credentials grant, RFC 8707 resource indicators and RFC 7591 dynamic registration. Clients and users are
listed in local/provider.json. It issues RS256 access tokens in the RFC 9068 shape (`typ: at+jwt`, `kid`;
iss, aud, sub, client_id, scope, iat, exp, jti). The signing key is created on first use under .local/
and kept there; `rotate` adds a new key and keeps publishing the old one until every token it signed has
expired. A running provider picks up a rotation made by another process. Codes, refresh tokens and
registered clients live in memory and are gone when it stops. It is a development tool, served on
loopback only (docs/local-stack.md); nothing in the functions imports it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from local import signin
from local.dpop_client import (
    TOKEN_ENDPOINT_PROOF_SECONDS,
    InvalidProof,
    token_request_key,
)
from local.serving import BackgroundServer, KeepAliveHandler

DISCOVERY_PATHS = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server")
JWKS_PATH = "/.well-known/jwks.json"
TOKEN_PATH = "/oauth2/token"  # noqa: S105 - a URL path, not a secret
AUTHORIZE_PATH = "/oauth2/authorize"
REGISTER_PATH = "/oauth2/register"
#: An authorization code is good for one exchange within this many seconds (RFC 6749 section 4.1.2).
CODE_LIFETIME_SECONDS = 60
#: Dynamic registrations kept in memory at most; a development server needs a handful.
MAX_REGISTERED_CLIENTS = 1000
_SCOPE_TOKEN_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F)) - {'"', "\\"}
#: Old keys stay published this long past the last token they could have signed (the authorizer's leeway).
RETIRE_MARGIN_SECONDS = 60


class ConfigError(ValueError):
    """local/provider.json is not usable; the message names the field."""


#: The scope that asks for a refresh token (OpenID Connect Core section 11), granted to the grants that have
#: a signed-in user; never part of a client's or user's `scopes`.
OFFLINE_ACCESS = "offline_access"
_GRANTS_WITH_A_USER = frozenset({"authorization_code", "refresh_token"})


@dataclass(frozen=True)
class Client:
    client_id: str
    #: None: a public client, which authenticates with PKCE alone and has no client credentials grant.
    secret: str | None
    scopes: frozenset[str]
    redirect_uris: tuple[str, ...] = ()
    grant_types: frozenset[str] = frozenset({"client_credentials"})


@dataclass(frozen=True)
class User:
    """Someone to sign in as on the local sign-in page: a name and the scopes they may grant."""

    user_id: str
    name: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class ProviderConfig:
    audience: str
    token_lifetime_seconds: int
    scopes: frozenset[str]
    clients: dict[str, Client]
    users: dict[str, User] = field(default_factory=dict)
    refresh_token_lifetime_seconds: int = 86_400

    @classmethod
    def load(cls, path: Path) -> ProviderConfig:
        try:
            document = json.loads(path.read_text())
        except (OSError, ValueError) as error:
            raise ConfigError(f"{path}: {error}") from None
        return cls.parse(document, str(path))

    @classmethod
    def parse(cls, document: Any, source: str = "provider config") -> ProviderConfig:
        if not isinstance(document, dict):
            raise ConfigError(f"{source}: must be a JSON object")
        audience = document.get("audience")
        if not isinstance(audience, str) or not audience:
            raise ConfigError(f"{source}: 'audience' must be a non-empty string")
        lifetime = _seconds(document, "token_lifetime_seconds", 3600, 86_400, source)
        refresh_lifetime = _seconds(document, "refresh_token_lifetime_seconds", 86_400, 30 * 86_400, source)
        scopes = _scope_list(document.get("scopes"), f"{source}: 'scopes'")
        if OFFLINE_ACCESS in scopes:
            raise ConfigError(f"{source}: 'scopes': {OFFLINE_ACCESS} asks for a refresh token; leave it out")
        clients_doc = document.get("clients")
        if not isinstance(clients_doc, dict) or not clients_doc:
            raise ConfigError(f"{source}: 'clients' must map client ids to {{secret, scopes}}")
        clients = {
            client_id: _client(client_id, entry, scopes, f"{source}: clients.{client_id}")
            for client_id, entry in clients_doc.items()
        }
        users_doc = document.get("users", {})
        if not isinstance(users_doc, dict):
            raise ConfigError(f"{source}: 'users' must map user ids to {{name, scopes}}")
        users = {
            user_id: _user(user_id, entry, scopes, f"{source}: users.{user_id}")
            for user_id, entry in users_doc.items()
        }
        if not users and any("authorization_code" in client.grant_types for client in clients.values()):
            raise ConfigError(
                f"{source}: 'users' must list someone to sign in as (clients have redirect_uris)"
            )
        return cls(audience, lifetime, scopes, clients, users, refresh_lifetime)


def _seconds(document: dict[str, Any], name: str, default: int, most: int, source: str) -> int:
    value = document.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 60 <= value <= most:
        raise ConfigError(f"{source}: '{name}' must be a whole number in 60..{most}")
    return value


def _client(client_id: str, entry: Any, known: frozenset[str], where: str) -> Client:
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be an object with 'scopes' and a 'secret', 'redirect_uris' or both")
    secret = entry.get("secret")
    if secret is not None and (not isinstance(secret, str) or not secret):
        raise ConfigError(f"{where}: 'secret' must be a non-empty string")
    redirect_uris = entry.get("redirect_uris", [])
    if not isinstance(redirect_uris, list) or not all(_is_loopback_redirect(uri) for uri in redirect_uris):
        raise ConfigError(f"{where}.redirect_uris: must list http(s) URLs on 127.0.0.1, [::1] or localhost")
    if secret is None and not redirect_uris:
        raise ConfigError(f"{where}: needs a non-empty 'secret' (client credentials), redirect_uris, or both")
    allowed = _scope_list(entry.get("scopes"), f"{where}.scopes")
    if not allowed <= known:
        raise ConfigError(f"{where}.scopes: {sorted(allowed - known)} not in 'scopes'")
    grants = ({"client_credentials"} if secret is not None else set()) | (
        _GRANTS_WITH_A_USER if redirect_uris else set()
    )
    return Client(client_id, secret, allowed, tuple(redirect_uris), frozenset(grants))


def _user(user_id: str, entry: Any, known: frozenset[str], where: str) -> User:
    if not _is_scope_token(user_id) or not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be an object with 'name' and 'scopes', under a plain user id")
    name = entry.get("name", user_id)
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}.name: must be a non-empty string")
    allowed = _scope_list(entry.get("scopes"), f"{where}.scopes")
    if not allowed <= known:
        raise ConfigError(f"{where}.scopes: {sorted(allowed - known)} not in 'scopes'")
    return User(user_id, name, allowed)


def _is_loopback_redirect(uri: Any) -> bool:
    """An absolute http(s) URL on this machine, without a fragment (RFC 6749 section 3.1.2)."""
    if not isinstance(uri, str) or len(uri) > 2000:
        return False
    try:
        parsed = urlsplit(uri)
        parsed.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return False
    return (
        parsed.scheme in ("http", "https")
        and parsed.hostname in ("127.0.0.1", "::1", "localhost")
        and not parsed.fragment
        and "#" not in uri
        and parsed.username is None
        and not any(character.isspace() or ord(character) < 0x20 for character in uri)
    )


def _scope_list(value: Any, where: str) -> frozenset[str]:
    if not isinstance(value, list) or not all(isinstance(s, str) and _is_scope_token(s) for s in value):
        raise ConfigError(f"{where} must be a list of scope names")
    return frozenset(value)


def _is_scope_token(value: str) -> bool:
    return bool(value) and set(value) <= _SCOPE_TOKEN_CHARS


# Keys -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredKey:
    kid: str
    private_key: rsa.RSAPrivateKey
    retire_at: float | None  # None for the active key

    def public_jwk(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}


class KeyStore:
    """RSA signing keys in one JSON file (mode 0600): the active key last, retiring keys before it."""

    def __init__(self, path: Path, now: Callable[[], float] = time.time) -> None:
        self.path = path
        self._now = now
        self._lock = threading.Lock()
        self._keys: list[StoredKey] = []
        self._loaded_stamp: tuple[int, int] | None = None

    def active(self) -> StoredKey:
        return self._current()[-1]

    def published(self) -> list[StoredKey]:
        now = self._now()
        return [key for key in self._current() if key.retire_at is None or key.retire_at > now]

    def rotate(self, token_lifetime_seconds: int) -> StoredKey:
        """Make a new active key; the old one stays published until its last token has expired."""
        with self._lock:
            keys = self._read() if self.path.exists() else []
            now = self._now()
            retire_at = now + token_lifetime_seconds + RETIRE_MARGIN_SECONDS
            kept = [
                StoredKey(key.kid, key.private_key, key.retire_at or retire_at)
                for key in keys
                if key.retire_at is None or key.retire_at > now
            ]
            self._keys = [*kept, _new_key()]
            self._write(self._keys)
            return self._keys[-1]

    def _current(self) -> list[StoredKey]:
        with self._lock:
            if not self.path.exists():
                self._keys = [_new_key()]
                self._write(self._keys)
            stat = self.path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
            if stamp != self._loaded_stamp:  # first use, or rotated by another process
                self._keys = self._read()
                self._loaded_stamp = stamp
            return self._keys

    def _read(self) -> list[StoredKey]:
        try:
            document = json.loads(self.path.read_text())
            loaded = [
                (
                    entry["kid"],
                    serialization.load_pem_private_key(entry["private_key_pem"].encode(), password=None),
                    entry.get("retire_at"),
                )
                for entry in document["keys"]
            ]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ConfigError(
                f"{self.path}: unreadable signing keys ({error}); delete it to start afresh"
            ) from None
        keys = [
            StoredKey(kid, key, retire_at)
            for kid, key, retire_at in loaded
            if isinstance(key, rsa.RSAPrivateKey)
        ]
        if not keys or len(keys) != len(loaded):
            raise ConfigError(f"{self.path}: not all keys are RSA signing keys; delete it to start afresh")
        return keys

    def _write(self, keys: list[StoredKey]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "keys": [
                {
                    "kid": key.kid,
                    "retire_at": key.retire_at,
                    "private_key_pem": key.private_key.private_bytes(
                        serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    ).decode(),
                }
                for key in keys
            ]
        }
        temporary = self.path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(document, handle, indent=2)
        os.replace(temporary, self.path)


def _new_key() -> StoredKey:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return StoredKey(f"local-{uuid.uuid4().hex[:12]}", private_key, None)


# The endpoints ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()
    #: An HTML page sent instead of the JSON body (the sign-in page), or "" for a redirect.
    page: str | None = None


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class _NoRedirect(Exception):
    """An authorization request whose client or redirect URI cannot be trusted: answered with a page,
    never sent back to the redirect URI (RFC 6749 section 4.1.2.1)."""


@dataclass(frozen=True)
class AuthorizationRequest:
    client: Client
    redirect_uri: str
    state: str | None
    code_challenge: str
    scope: str | None  # as asked; narrowed once the user is known
    resource: str | None

    def hidden_fields(self) -> dict[str, str]:
        fields = {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.redirect_uri,
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
        }
        optional = {"state": self.state, "scope": self.scope, "resource": self.resource}
        return fields | {name: value for name, value in optional.items() if value is not None}


@dataclass(frozen=True)
class _Grant:
    """What a code or a refresh token stands for."""

    client_id: str
    user_id: str
    scopes: frozenset[str]
    resource: str | None
    expires_at: float
    redirect_uri: str = ""
    code_challenge: str = ""


class TokenIssuer:
    """The authorization server behind the HTTP endpoints: metadata, sign-in, token and registration."""

    def __init__(
        self,
        issuer: str,
        config: ProviderConfig,
        keys: KeyStore,
        now: Callable[[], float] = time.time,
        resources: tuple[str, ...] = (),
    ) -> None:
        self.issuer = issuer
        self.config = config
        self.keys = keys
        self._now = now
        #: RFC 8707 resource indicators a client may ask a token for; the token's `aud` is the one asked
        #: for. Without one, `aud` is the configured audience.
        self.resources = frozenset({config.audience, *resources})
        self._lock = threading.Lock()
        self._codes: dict[str, _Grant] = {}
        self._refresh_tokens: dict[str, _Grant] = {}
        self._registered: dict[str, Client] = {}
        #: DPoP proofs accepted at the token endpoint, until each would be too old anyway.
        self._proofs_seen: dict[str, float] = {}

    # Metadata and keys

    def discovery(self) -> dict[str, Any]:
        """RFC 8414 section 2 authorization server metadata: every REQUIRED member and every endpoint."""
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}{AUTHORIZE_PATH}",
            "token_endpoint": f"{self.issuer}{TOKEN_PATH}",
            "jwks_uri": f"{self.issuer}{JWKS_PATH}",
            "registration_endpoint": f"{self.issuer}{REGISTER_PATH}",
            "scopes_supported": [*sorted(self.config.scopes), OFFLINE_ACCESS],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
            "access_token_signing_alg_values_supported": ["RS256"],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk() for key in self.keys.published()]}

    def client(self, client_id: str) -> Client | None:
        with self._lock:
            return self.config.clients.get(client_id) or self._registered.get(client_id)

    # The authorization endpoint (RFC 6749 section 4.1.1, RFC 7636)

    def authorization_page(self, query: str) -> Reply:
        """GET: the sign-in page for a valid request; an error page or an error redirect otherwise."""
        try:
            request = self.authorization_request(_query(query))
        except _NoRedirect as problem:
            return _page(400, signin.error_page(str(problem)))
        except _RedirectError as error:
            return error.reply(self.issuer)
        users = [(user.user_id, user.name, _granted(request, user)) for user in self.config.users.values()]
        return _page(200, signin.sign_in_page(AUTHORIZE_PATH, request.hidden_fields(), users))

    def sign_in(self, content_type: str | None, body: bytes) -> Reply:
        """POST from the sign-in page: the request again, and who signs in (or `deny`)."""
        try:
            form = _form(content_type, body)
        except OAuthError as error:
            return _page(400, signin.error_page(error.description))
        try:
            request = self.authorization_request(form)
            user, scopes = self._signed_in(request, form)
        except _NoRedirect as problem:
            return _page(400, signin.error_page(str(problem)))
        except _RedirectError as error:
            return error.reply(self.issuer)
        code = secrets.token_urlsafe(32)
        grant = _Grant(
            request.client.client_id,
            user.user_id,
            scopes,
            request.resource,
            self._now() + CODE_LIFETIME_SECONDS,
            request.redirect_uri,
            request.code_challenge,
        )
        with self._lock:
            _forget_expired(self._codes, self._now())
            self._codes[code] = grant
        # RFC 9207: the issuer in the response, so a client talking to several servers knows whose code it is.
        answer = {"code": code, **({"state": request.state} if request.state is not None else {})}
        return _redirect(request.redirect_uri, answer | {"iss": self.issuer})

    def _signed_in(
        self, request: AuthorizationRequest, form: Mapping[str, str]
    ) -> tuple[User, frozenset[str]]:
        if "deny" in form:
            raise _RedirectError(request, "access_denied", "the user declined")
        user = self.config.users.get(form.get("user", ""))
        if user is None:
            raise _NoRedirect("choose someone to sign in as")
        scopes = _granted(request, user)
        if not scopes:
            raise _RedirectError(
                request, "invalid_scope", f"{user.user_id} may grant none of the scopes asked"
            )
        return user, scopes

    def authorization_request(self, params: Mapping[str, str]) -> AuthorizationRequest:
        client = self.client(params.get("client_id", ""))
        if client is None or "authorization_code" not in client.grant_types:
            raise _NoRedirect("unknown client_id, or a client without redirect_uris")
        redirect_uri = params.get("redirect_uri")
        if redirect_uri is None and len(client.redirect_uris) == 1:
            redirect_uri = client.redirect_uris[0]
        if redirect_uri not in client.redirect_uris:
            raise _NoRedirect(f"redirect_uri is not one registered for {client.client_id} (exact match)")
        request = AuthorizationRequest(
            client,
            redirect_uri,
            params.get("state"),
            params.get("code_challenge", ""),
            params.get("scope"),
            params.get("resource"),
        )
        if params.get("response_type") != "code":
            raise _RedirectError(request, "unsupported_response_type", "response_type must be code")
        if "code_challenge" not in params:
            raise _RedirectError(request, "invalid_request", "PKCE is required: send code_challenge (S256)")
        if params.get("code_challenge_method") != "S256":
            raise _RedirectError(request, "invalid_request", "code_challenge_method must be S256")
        if not _S256_CHALLENGE.fullmatch(request.code_challenge):
            raise _RedirectError(request, "invalid_request", "code_challenge is not a base64url SHA-256")
        try:
            _scope_names(request.scope)
            self._audience(request.resource)
        except OAuthError as error:
            raise _RedirectError(request, error.error, error.description) from None
        return request

    # The token endpoint (RFC 6749 sections 4.1.3, 4.4 and 6)

    def token_reply(
        self,
        content_type: str | None,
        body: bytes,
        authorization: str | None,
        dpop: tuple[str, ...] = (),
    ) -> Reply:
        """`dpop`: the request's DPoP headers; with one valid proof the token is bound to its key."""
        try:
            form = _form(content_type, body)
            return Reply(200, self.issue(form, authorization, self._proof_key(dpop)), _NO_STORE)
        except OAuthError as error:
            headers: tuple[tuple[str, str], ...] = _NO_STORE
            if error.error == "invalid_client":
                headers = (*headers, ("WWW-Authenticate", 'Basic realm="local-provider", charset="UTF-8"'))
            answer = {"error": error.error, "error_description": error.description}
            return Reply(error.status, answer, headers)

    def issue(
        self, form: Mapping[str, str], authorization: str | None, dpop_jkt: str | None = None
    ) -> dict[str, Any]:
        """The token response; with `dpop_jkt`, a DPoP-bound token (RFC 9449 section 5)."""
        client = self._authenticate(form, authorization)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant_type not in ("client_credentials", "authorization_code", "refresh_token"):
            raise OAuthError("unsupported_grant_type", f"{grant_type!r} is not a grant this server has")
        if grant_type not in client.grant_types:
            raise OAuthError("unauthorized_client", f"{client.client_id} may not use {grant_type}")
        if grant_type == "client_credentials":
            scopes = _narrowed(form.get("scope"), client.scopes, client.client_id)
            audience = self._audience(form.get("resource"))
            return self._tokens(client, client.client_id, scopes, audience, dpop_jkt=dpop_jkt)
        if grant_type == "authorization_code":
            grant = self._redeem_code(client, form)
            scopes = grant.scopes
        else:
            grant = self._redeem_refresh_token(client, form)
            scopes = grant.scopes
            if "scope" in form:  # RFC 6749 section 6: a refresh may narrow the scope, never widen it
                scopes = _scope_names(form["scope"])
                if not scopes <= grant.scopes:
                    raise OAuthError("invalid_scope", "a refresh may not widen the original grant")
        if "resource" in form and form["resource"] != grant.resource:
            raise OAuthError("invalid_target", "resource must be the one the grant was made for")
        return self._tokens(client, grant.user_id, scopes, self._audience(grant.resource), grant, dpop_jkt)

    def _redeem_code(self, client: Client, form: Mapping[str, str]) -> _Grant:
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # one use, whatever happens next
        if grant is None or grant.expires_at <= self._now() or grant.client_id != client.client_id:
            raise OAuthError("invalid_grant", "the code is unknown, used, expired or another client's")
        if form.get("redirect_uri") != grant.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri must be the one of the authorization request")
        verifier = form.get("code_verifier", "")
        if not _PKCE_VERIFIER.fullmatch(verifier):
            raise OAuthError("invalid_request", "code_verifier is required: 43 to 128 unreserved characters")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not hmac.compare_digest(digest, grant.code_challenge):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
        return grant

    def _redeem_refresh_token(self, client: Client, form: Mapping[str, str]) -> _Grant:
        with self._lock:
            grant = self._refresh_tokens.get(form.get("refresh_token", ""))
            if grant is None or grant.expires_at <= self._now() or grant.client_id != client.client_id:
                raise OAuthError("invalid_grant", "the refresh token is unknown, used, expired or not yours")
            # Rotated: each refresh token is good once (OAuth 2.1 section 4.3.1, for public clients).
            del self._refresh_tokens[form["refresh_token"]]
        return grant

    def _proof_key(self, proofs: tuple[str, ...]) -> str | None:
        """RFC 9449 section 5: the thumbprint of the key a token request's one DPoP proof was signed with
        (checked as section 4.3 says, and never seen before), or None when it carries none."""
        if not proofs:
            return None
        if len(proofs) > 1:
            raise OAuthError("invalid_dpop_proof", "send exactly one DPoP header")
        try:
            thumbprint, jti, issued_at = token_request_key(
                proofs[0], f"{self.issuer}{TOKEN_PATH}", self._now()
            )
        except InvalidProof as problem:
            raise OAuthError("invalid_dpop_proof", str(problem)) from None
        with self._lock:
            now = self._now()
            self._proofs_seen = {key: until for key, until in self._proofs_seen.items() if until > now}
            key = f"{thumbprint} {jti}"
            if key in self._proofs_seen:
                raise OAuthError("invalid_dpop_proof", "this proof was used before")
            self._proofs_seen[key] = issued_at + TOKEN_ENDPOINT_PROOF_SECONDS
        return thumbprint

    def _tokens(
        self,
        client: Client,
        subject: str,
        scopes: frozenset[str],
        audience: str,
        grant: _Grant | None = None,
        dpop_jkt: str | None = None,
    ) -> dict[str, Any]:
        scope = " ".join(sorted(scopes))
        now = int(self._now())
        lifetime = self.config.token_lifetime_seconds
        claims = {
            "iss": self.issuer,
            "aud": audience,
            "sub": subject,
            "client_id": client.client_id,
            "scope": scope,
            "iat": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
        }
        if dpop_jkt is not None:
            claims["cnf"] = {"jkt": dpop_jkt}  # RFC 9449 section 6.1
        key = self.keys.active()
        token = jwt.encode(
            claims, key.private_key, algorithm="RS256", headers={"typ": "at+jwt", "kid": key.kid}
        )
        token_type = "DPoP" if dpop_jkt is not None else "Bearer"  # RFC 9449 section 5
        answer: dict[str, Any] = {"access_token": token, "token_type": token_type, "expires_in": lifetime}
        answer["scope"] = scope  # always: RFC 6749 section 5.1 requires it when it differs from the request
        if grant is not None and OFFLINE_ACCESS in grant.scopes:
            # The next refresh token stands for the whole grant, whatever this access token was narrowed to.
            refresh_token = secrets.token_urlsafe(32)
            expires_at = self._now() + self.config.refresh_token_lifetime_seconds
            with self._lock:
                _forget_expired(self._refresh_tokens, self._now())
                self._refresh_tokens[refresh_token] = _Grant(
                    client.client_id, subject, grant.scopes, grant.resource, expires_at
                )
            answer["refresh_token"] = refresh_token
        return answer

    def _audience(self, resource: str | None) -> str:
        """RFC 8707: the token is for the resource asked for, if this server issues tokens for it."""
        if resource is None:
            return self.config.audience
        if resource not in self.resources:
            known = ", ".join(sorted(self.resources))
            raise OAuthError("invalid_target", f"no tokens for {resource!r} here, only for {known}")
        return resource

    def _authenticate(self, form: Mapping[str, str], authorization: str | None) -> Client:
        basic = _basic_credentials(authorization) if authorization else None
        posted_id, posted_secret = form.get("client_id"), form.get("client_secret")
        if basic is not None and posted_secret is not None:
            raise OAuthError("invalid_request", "use one client authentication method, not both")
        if basic is not None:
            if posted_id is not None and posted_id != basic[0]:
                raise OAuthError("invalid_request", "client_id does not match the Authorization header")
            client_id, secret = basic
        elif posted_id is not None and posted_secret is not None:
            client_id, secret = posted_id, posted_secret
        elif posted_id is not None and posted_secret is None:
            # A public client: PKCE, checked with the code, is its proof (RFC 7636).
            public = self.client(posted_id)
            if public is None or public.secret is not None:
                raise OAuthError("invalid_client", "client authentication is required (HTTP Basic)", 401)
            return public
        else:
            raise OAuthError("invalid_client", "client authentication is required (HTTP Basic)", 401)
        client = self.client(client_id)
        expected = client.secret if client is not None and client.secret is not None else "no such client"
        if not hmac.compare_digest(secret.encode(), expected.encode()) or client is None or not client.secret:
            raise OAuthError("invalid_client", "client authentication failed", 401)
        return client

    # Dynamic client registration (RFC 7591)

    def register_reply(self, content_type: str | None, body: bytes) -> Reply:
        try:
            return Reply(201, self.register(_json_object(content_type, body)), _NO_STORE)
        except OAuthError as error:
            answer = {"error": error.error, "error_description": error.description}
            return Reply(error.status, answer, _NO_STORE)

    def register(self, metadata: Mapping[str, Any]) -> dict[str, Any]:
        """A client for the authorization code grant only: it acts for whoever signs in, never on its own,
        so registering gives no access without a user (no client credentials grant)."""
        redirect_uris = metadata.get("redirect_uris")
        if not isinstance(redirect_uris, list) or not redirect_uris:
            raise OAuthError("invalid_redirect_uri", "redirect_uris must list at least one URL")
        if not all(_is_loopback_redirect(uri) for uri in redirect_uris):
            raise OAuthError("invalid_redirect_uri", "redirect URIs must be http(s) URLs on this machine")
        grant_types = metadata.get("grant_types", ["authorization_code"])
        if not isinstance(grant_types, list) or not set(grant_types) <= _GRANTS_WITH_A_USER:
            raise OAuthError("invalid_client_metadata", "grant_types: authorization_code, refresh_token only")
        if metadata.get("response_types", ["code"]) != ["code"]:
            raise OAuthError("invalid_client_metadata", 'response_types must be ["code"]')
        method = metadata.get("token_endpoint_auth_method", "client_secret_basic")
        if method not in ("client_secret_basic", "client_secret_post", "none"):
            raise OAuthError(
                "invalid_client_metadata", f"token_endpoint_auth_method {method!r} is unsupported"
            )
        requested = metadata.get("scope")
        if requested is not None and not isinstance(requested, str):
            raise OAuthError("invalid_client_metadata", "scope must be a space-separated string")
        scopes = self.config.scopes if requested is None else self.config.scopes & _scope_names(requested)
        if not scopes:
            raise OAuthError("invalid_client_metadata", f"none of {requested!r} is a scope here")
        client_id = f"registered-{uuid.uuid4().hex[:16]}"
        secret = None if method == "none" else secrets.token_urlsafe(32)
        client = Client(client_id, secret, scopes, tuple(redirect_uris), _GRANTS_WITH_A_USER)
        with self._lock:
            if len(self._registered) >= MAX_REGISTERED_CLIENTS:
                raise OAuthError("invalid_client_metadata", "too many registrations; restart the provider")
            self._registered[client_id] = client
        answer: dict[str, Any] = {
            "client_id": client_id,
            "client_id_issued_at": int(self._now()),
            "redirect_uris": list(client.redirect_uris),
            "grant_types": sorted(_GRANTS_WITH_A_USER),
            "response_types": ["code"],
            "token_endpoint_auth_method": method,
            "scope": " ".join(sorted(scopes)),
        }
        if isinstance(metadata.get("client_name"), str):
            answer["client_name"] = metadata["client_name"]
        if secret is not None:
            answer |= {"client_secret": secret, "client_secret_expires_at": 0}
        return answer


class _RedirectError(Exception):
    """An error for a trusted client and redirect URI: sent back there (RFC 6749 section 4.1.2.1)."""

    def __init__(self, request: AuthorizationRequest, error: str, description: str) -> None:
        super().__init__(description)
        self.request = request
        self.error = error
        self.description = description

    def reply(self, issuer: str) -> Reply:
        answer = {"error": self.error, "error_description": self.description}
        if self.request.state is not None:
            answer["state"] = self.request.state
        return _redirect(self.request.redirect_uri, answer | {"iss": issuer})


_NO_STORE = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_PKCE_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")


def _scope_names(requested: str | None) -> frozenset[str]:
    if requested is None:
        return frozenset()
    names = requested.split(" ")
    if not requested or not all(_is_scope_token(name) for name in names):
        raise OAuthError("invalid_scope", "scope must be space-separated scope names")
    return frozenset(names)


def _narrowed(requested: str | None, allowed: frozenset[str], who: str) -> frozenset[str]:
    """RFC 6749 section 3.3: what was asked for among what may be granted (the response's `scope` says
    which); everything allowed when nothing was asked for; an error only when nothing asked for is left."""
    if requested is None:
        return allowed - {OFFLINE_ACCESS}
    granted = _scope_names(requested) & allowed
    if not granted:
        raise OAuthError("invalid_scope", f"{who} may have none of {requested}")
    return granted


def _granted(request: AuthorizationRequest, user: User) -> frozenset[str]:
    """What a code for this user would carry: the request narrowed to what both client and user may have,
    and offline_access when asked for by a client that may refresh."""
    allowed = request.client.scopes & user.scopes
    if "refresh_token" in request.client.grant_types:
        allowed |= {OFFLINE_ACCESS}
    try:
        scopes = _narrowed(request.scope, allowed, user.user_id)
    except OAuthError:
        return frozenset()
    return scopes if scopes - {OFFLINE_ACCESS} else frozenset()


def _forget_expired(grants: dict[str, _Grant], now: float) -> None:
    for key in [key for key, grant in grants.items() if grant.expires_at <= now]:
        del grants[key]


def _page(status: int, html: str) -> Reply:
    return Reply(status, {}, (*_NO_STORE, *signin.PAGE_HEADERS), page=html)


def _redirect(redirect_uri: str, parameters: Mapping[str, str]) -> Reply:
    separator = "&" if "?" in redirect_uri else "?"
    location = f"{redirect_uri}{separator}{urlencode(parameters)}"
    return Reply(302, {}, (*_NO_STORE, ("Location", location)), page="")


def _query(query: str) -> dict[str, str]:
    try:
        parsed = parse_qs(query, keep_blank_values=True)
    except ValueError:
        raise _NoRedirect("the query is not valid") from None
    if any(len(values) > 1 for values in parsed.values()):
        raise _NoRedirect("parameters must not repeat (RFC 6749 section 3.1)")
    return {name: values[0] for name, values in parsed.items()}


def _json_object(content_type: str | None, body: bytes) -> dict[str, Any]:
    if (content_type or "").split(";")[0].strip().lower() != "application/json":
        raise OAuthError("invalid_client_metadata", "the body must be application/json")
    try:
        document = json.loads(body)
    except ValueError:
        raise OAuthError("invalid_client_metadata", "the body is not JSON") from None
    if not isinstance(document, dict):
        raise OAuthError("invalid_client_metadata", "the body must be a JSON object")
    return document


def _form(content_type: str | None, body: bytes) -> dict[str, str]:
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "the body is not a valid form") from None
    repeated = sorted(name for name, values in parsed.items() if len(values) > 1)
    if repeated == ["resource"]:
        # RFC 8707 lets a client ask for several; a token here is for one audience.
        raise OAuthError("invalid_target", "one resource per token request")
    if repeated:
        raise OAuthError("invalid_request", f"parameters must not repeat: {', '.join(repeated)}")
    return {name: values[0] for name, values in parsed.items()}


def _basic_credentials(authorization: str) -> tuple[str, str]:
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError("invalid_client", "only HTTP Basic client authentication is supported", 401)
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_client", "the Basic credentials are not valid base64", 401) from None
    client_id, separator, secret = decoded.partition(":")
    if not separator:
        raise OAuthError("invalid_client", "the Basic credentials are not client_id:secret", 401)
    # RFC 6749 §2.3.1: both parts are form-urlencoded before they are joined and encoded.
    return unquote_plus(client_id), unquote_plus(secret)


# The HTTP server ---------------------------------------------------------------------------------------


class ProviderServer(BackgroundServer):
    """Binds first, so a port of 0 has its number for the issuer URL; set `issuer`, then `start()`.

    Only on a loopback address does it sign anyone in or issue tokens: bound elsewhere (`make sam-local`
    binds Docker's bridge gateway, for the functions in containers) it serves metadata and keys alone.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 3001, log: Callable[[str], None] | None = None
    ) -> None:
        self.issuer: TokenIssuer | None = None
        server = self
        issues_tokens = _is_loopback(host)

        class Handler(KeepAliveHandler):
            def do_GET(self) -> None:
                issuer = server._require_issuer()
                path, _, query = self.path.partition("?")
                if not issues_tokens and path not in (*DISCOVERY_PATHS, JWKS_PATH):
                    reply = Reply(404, {"error": "not_found"})
                elif path in DISCOVERY_PATHS:
                    reply = Reply(200, issuer.discovery())
                elif path == JWKS_PATH:
                    reply = Reply(200, issuer.jwks(), (("Cache-Control", "max-age=300"),))
                elif path == AUTHORIZE_PATH:
                    reply = issuer.authorization_page(query)
                elif path in (TOKEN_PATH, REGISTER_PATH):
                    use_post = {"error": "invalid_request", "error_description": "use POST"}
                    reply = Reply(405, use_post, (("Allow", "POST"),))
                else:
                    reply = Reply(404, {"error": "not_found"})
                self._reply("GET", path, reply)

            def do_POST(self) -> None:
                issuer = server._require_issuer()
                length = self.headers.get("Content-Length", "0")
                body = self.rfile.read(int(length)) if length.isdigit() else b""
                path = self.path.split("?")[0]
                content_type = self.headers.get("Content-Type")
                if not issues_tokens:
                    reply = Reply(404, {"error": "not_found"})
                elif path == TOKEN_PATH:
                    proofs = tuple(self.headers.get_all("DPoP") or ())
                    reply = issuer.token_reply(content_type, body, self.headers.get("Authorization"), proofs)
                elif path == AUTHORIZE_PATH:
                    reply = issuer.sign_in(content_type, body)
                elif path == REGISTER_PATH:
                    reply = issuer.register_reply(content_type, body)
                else:
                    reply = Reply(404, {"error": "not_found"})
                self._reply("POST", path, reply)

            def _reply(self, method: str, path: str, reply: Reply) -> None:
                if reply.page is not None:
                    payload, media_type = reply.page.encode(), "text/html; charset=utf-8"
                else:
                    payload, media_type = json.dumps(reply.body).encode(), "application/json"
                # Logged before the answer is written, so whoever gets the answer can see the line.
                if log is not None:
                    log(f"{method} {path} → {reply.status}{_outcome(reply)}")
                self.send_response(reply.status)
                if payload:
                    self.send_header("Content-Type", media_type)
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__(host, port, Handler, "provider")

    def _require_issuer(self) -> TokenIssuer:
        if self.issuer is None:
            raise RuntimeError("the provider has no issuer attached")
        return self.issuer


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name: it may resolve anywhere
        return False


def _outcome(reply: Reply) -> str:
    """What the access log says beyond the status: never a code or a token, only what was granted."""
    if reply.page is not None:
        location = dict(reply.headers).get("Location", "")
        error = parse_qs(urlsplit(location).query).get("error")
        return f" redirect ({error[0] if error else 'code'})" if location else ""
    if "error" in reply.body:
        return f" {reply.body['error']}"
    if "access_token" in reply.body:
        refresh = ", refresh token" if "refresh_token" in reply.body else ""
        return f" issued ({reply.body['scope'] or 'no scope'}{refresh})"
    if "client_id" in reply.body and reply.status == 201:
        return f" registered {reply.body['client_id']}"
    return ""
