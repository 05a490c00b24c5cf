"""A local OpenID provider for the client credentials grant: discovery, JWKS and a token endpoint.

It issues RS256 access tokens in the RFC 9068 shape (`typ: at+jwt`, `kid`; iss, aud, sub = client id,
client_id, scope, iat, exp, jti) to the clients listed in local/provider.json. The signing key is created
on first use under .local/ and kept there; `rotate` adds a new key and keeps publishing the old one until
every token it signed has expired. A running provider picks up a rotation made by another process.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote_plus

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from local.serving import BackgroundServer, KeepAliveHandler

DISCOVERY_PATHS = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server")
JWKS_PATH = "/.well-known/jwks.json"
TOKEN_PATH = "/oauth2/token"  # noqa: S105 - a URL path, not a secret
_SCOPE_TOKEN_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F)) - {'"', "\\"}
#: Old keys stay published this long past the last token they could have signed (the authorizer's leeway).
RETIRE_MARGIN_SECONDS = 60


class ConfigError(ValueError):
    """local/provider.json is not usable; the message names the field."""


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class ProviderConfig:
    audience: str
    token_lifetime_seconds: int
    scopes: frozenset[str]
    clients: dict[str, Client]

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
        lifetime = document.get("token_lifetime_seconds", 3600)
        if not isinstance(lifetime, int) or isinstance(lifetime, bool) or not 60 <= lifetime <= 86_400:
            raise ConfigError(f"{source}: 'token_lifetime_seconds' must be a whole number in 60..86400")
        scopes = _scope_list(document.get("scopes"), f"{source}: 'scopes'")
        clients_doc = document.get("clients")
        if not isinstance(clients_doc, dict) or not clients_doc:
            raise ConfigError(f"{source}: 'clients' must map client ids to {{secret, scopes}}")
        clients = {}
        for client_id, entry in clients_doc.items():
            where = f"{source}: clients.{client_id}"
            if not isinstance(entry, dict) or not isinstance(entry.get("secret"), str) or not entry["secret"]:
                raise ConfigError(f"{where}: needs a non-empty 'secret'")
            allowed = _scope_list(entry.get("scopes"), f"{where}.scopes")
            if not allowed <= scopes:
                raise ConfigError(f"{where}.scopes: {sorted(allowed - scopes)} not in 'scopes'")
            clients[client_id] = Client(client_id, entry["secret"], allowed)
        return cls(audience, lifetime, scopes, clients)


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


# The token endpoint -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class TokenIssuer:
    """The client credentials grant (RFC 6749 §4.4) with client_secret_basic or client_secret_post."""

    def __init__(
        self, issuer: str, config: ProviderConfig, keys: KeyStore, now: Callable[[], float] = time.time
    ) -> None:
        self.issuer = issuer
        self.config = config
        self.keys = keys
        self._now = now

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.issuer}{JWKS_PATH}",
            "token_endpoint": f"{self.issuer}{TOKEN_PATH}",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": sorted(self.config.scopes),
            "access_token_signing_alg_values_supported": ["RS256"],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk() for key in self.keys.published()]}

    def token_reply(self, content_type: str | None, body: bytes, authorization: str | None) -> Reply:
        try:
            return Reply(200, self.issue(_form(content_type, body), authorization), _NO_STORE)
        except OAuthError as error:
            headers: tuple[tuple[str, str], ...] = _NO_STORE
            if error.error == "invalid_client":
                headers = (*headers, ("WWW-Authenticate", 'Basic realm="local-provider", charset="UTF-8"'))
            answer = {"error": error.error, "error_description": error.description}
            return Reply(error.status, answer, headers)

    def issue(self, form: Mapping[str, str], authorization: str | None) -> dict[str, Any]:
        client = self._authenticate(form, authorization)
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant_type != "client_credentials":
            raise OAuthError(
                "unsupported_grant_type", f"only client_credentials is supported, not {grant_type!r}"
            )
        scopes = self._granted_scopes(client, form.get("scope"))
        scope = " ".join(sorted(scopes))
        now = int(self._now())
        lifetime = self.config.token_lifetime_seconds
        claims = {
            "iss": self.issuer,
            "aud": self.config.audience,
            "sub": client.client_id,
            "client_id": client.client_id,
            "scope": scope,
            "iat": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
        }
        key = self.keys.active()
        token = jwt.encode(
            claims, key.private_key, algorithm="RS256", headers={"typ": "at+jwt", "kid": key.kid}
        )
        return {"access_token": token, "token_type": "Bearer", "expires_in": lifetime, "scope": scope}

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
        else:
            raise OAuthError("invalid_client", "client authentication is required (HTTP Basic)", 401)
        client = self.config.clients.get(client_id)
        expected = client.secret if client else "no such client"
        if not hmac.compare_digest(secret.encode(), expected.encode()) or client is None:
            raise OAuthError("invalid_client", "client authentication failed", 401)
        return client

    def _granted_scopes(self, client: Client, requested: str | None) -> frozenset[str]:
        if requested is None:
            return client.scopes  # RFC 6749 §3.3: the default is everything the client may have
        names = requested.split(" ")
        if not requested or not all(_is_scope_token(name) for name in names):
            raise OAuthError("invalid_scope", "scope must be space-separated scope names")
        refused = sorted(set(names) - client.scopes)
        if refused:
            raise OAuthError("invalid_scope", f"{client.client_id} may not have {' '.join(refused)}")
        return frozenset(names)


_NO_STORE = (("Cache-Control", "no-store"), ("Pragma", "no-cache"))


def _form(content_type: str | None, body: bytes) -> dict[str, str]:
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "the body is not a valid form") from None
    repeated = sorted(name for name, values in parsed.items() if len(values) > 1)
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
    """Binds first, so a port of 0 has its number for the issuer URL; set `issuer`, then `start()`."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 3001, log: Callable[[str], None] | None = None
    ) -> None:
        self.issuer: TokenIssuer | None = None
        server = self

        class Handler(KeepAliveHandler):
            def do_GET(self) -> None:
                issuer = server._require_issuer()
                path = self.path.split("?")[0]
                if path in DISCOVERY_PATHS:
                    self._reply(Reply(200, issuer.discovery()))
                elif path == JWKS_PATH:
                    self._reply(Reply(200, issuer.jwks(), (("Cache-Control", "max-age=300"),)))
                elif path == TOKEN_PATH:
                    self._reply(
                        Reply(
                            405,
                            {"error": "invalid_request", "error_description": "use POST"},
                            (("Allow", "POST"),),
                        )
                    )
                else:
                    self._reply(Reply(404, {"error": "not_found"}))

            def do_POST(self) -> None:
                issuer = server._require_issuer()
                length = self.headers.get("Content-Length", "0")
                body = self.rfile.read(int(length)) if length.isdigit() else b""
                if self.path.split("?")[0] != TOKEN_PATH:
                    self._reply(Reply(404, {"error": "not_found"}))
                    return
                reply = issuer.token_reply(
                    self.headers.get("Content-Type"), body, self.headers.get("Authorization")
                )
                if log is not None:
                    outcome = (
                        f"issued ({reply.body['scope'] or 'no scope'})"
                        if reply.status == 200
                        else reply.body.get("error")
                    )
                    log(f"POST {TOKEN_PATH} → {reply.status} {outcome}")
                self._reply(reply)

            def _reply(self, reply: Reply) -> None:
                payload = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
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
