"""What every benchmark shares: one RSA-2048 key, a loopback JWKS server, tokens and events."""

from __future__ import annotations

import base64
import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from devkit.jwks_server import JwksServer
from devkit.tokens import AUDIENCE, SigningKey, claims_for, jwks_of, mint, rsa_key

ROUTE_SCOPES = {"GET /messages": ["messages:read"], "POST /messages": ["messages:write"]}
STAGE_ARN = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod"


@dataclass
class Scenario:
    key: SigningKey
    server: JwksServer

    @classmethod
    def start(cls) -> Scenario:
        server = JwksServer()
        server.start()
        key = rsa_key("bench-rsa-1")
        server.publish(jwks_of(key))
        return cls(key, server)

    def stop(self) -> None:
        self.server.stop()

    @contextlib.contextmanager
    def provider_latency(self, seconds: float) -> Iterator[None]:
        """The JWKS answers after `seconds`, as a provider across the internet does, within the block."""
        reply = self.server.replies[self.server.jwks_path]
        previous, reply.delay_seconds = reply.delay_seconds, seconds
        try:
            yield
        finally:
            reply.delay_seconds = previous

    @property
    def jwks_uri(self) -> str:
        return self.server.base_url + self.server.jwks_path

    def environment(self) -> dict[str, str]:
        """The authorizer's configuration, for ours and for the naive baseline alike."""
        return {
            "ISSUER": self.server.issuer,
            "AUDIENCE": AUDIENCE,
            "JWKS_URI": self.jwks_uri,
            "ROUTE_SCOPES": json.dumps(ROUTE_SCOPES),
            "POWERTOOLS_SERVICE_NAME": "bench",
        }

    def tokens(self, count: int) -> list[str]:
        """Distinct valid tokens (one jti each), valid for an hour: a realistic access token."""
        now = int(time.time())
        return [
            mint(self.key, claims_for(self.server.issuer, now=now, exp=now + 3600, jti=f"bench-{n}"))
            for n in range(count)
        ]


def event(token: str, route: str = "GET/messages") -> dict[str, Any]:
    return {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": f"{STAGE_ARN}/{route}"}


def signing_input_and_signature(token: str) -> tuple[bytes, bytes]:
    header, payload, signature = token.split(".")
    return f"{header}.{payload}".encode(), base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
