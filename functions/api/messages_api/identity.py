"""Who is calling, as the JWT authorizer told API Gateway, and which scopes each route requires.

The authorizer's context arrives in `event.requestContext.authorizer`, its values stringified by API
Gateway, next to the `principalId` and `integrationLatency` that API Gateway adds itself. The route table
is the same `ROUTE_SCOPES` value the authorizer enforces, so the two can never disagree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from messages_api.errors import InsufficientScope, MissingAuthorizerContext

#: Keys of the authorizer context that are not claims: the core ones read into fields, and what API
#: Gateway adds itself.
_NOT_CLAIMS = frozenset({"sub", "iss", "scope", "client_id", "principalId", "integrationLatency"})

_ROUTE_KEY = re.compile(r"^(?P<method>[A-Z]+|\*) (?P<path>/\S*)$")


@dataclass(frozen=True)
class Caller:
    sub: str
    issuer: str
    scopes: frozenset[str]
    client_id: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Caller:
        request_context = event.get("requestContext")
        context = request_context.get("authorizer") if isinstance(request_context, Mapping) else None
        if not isinstance(context, Mapping) or not context:
            raise MissingAuthorizerContext("requestContext.authorizer is absent")
        sub, issuer, scope = context.get("sub"), context.get("iss"), context.get("scope", "")
        if not isinstance(sub, str) or not sub:
            raise MissingAuthorizerContext("it has no 'sub'")
        if not isinstance(issuer, str) or not issuer:
            raise MissingAuthorizerContext("it has no 'iss'")
        if not isinstance(scope, str):
            raise MissingAuthorizerContext("its 'scope' is not a string")
        client_id = context.get("client_id")
        return cls(
            sub=sub,
            issuer=issuer,
            scopes=frozenset(scope.split()),
            client_id=client_id if isinstance(client_id, str) and client_id else None,
            claims={name: value for name, value in context.items() if name not in _NOT_CLAIMS},
        )

    def require(self, scopes: frozenset[str]) -> None:
        missing = scopes - self.scopes
        if missing:
            raise InsufficientScope(missing)

    def profile(self) -> dict[str, Any]:
        return {
            "sub": self.sub,
            "issuer": self.issuer,
            "client_id": self.client_id,
            "scopes": sorted(self.scopes),
            "claims": self.claims,
        }


@dataclass(frozen=True)
class RouteScopes:
    """`ROUTE_SCOPES`: "METHOD /path" (as the template declares the route) → the scopes it requires."""

    table: Mapping[tuple[str, str], frozenset[str]]

    @classmethod
    def parse(cls, raw: str) -> RouteScopes:
        if not raw.strip():
            return cls({})
        try:
            document = json.loads(raw)
        except ValueError:
            raise ValueError("ROUTE_SCOPES is not valid JSON") from None
        if not isinstance(document, dict):
            raise ValueError('ROUTE_SCOPES must be a JSON object like {"GET /path": ["scope"]}')
        table: dict[tuple[str, str], frozenset[str]] = {}
        for key, scopes in document.items():
            match = _ROUTE_KEY.match(key)
            if match is None:
                raise ValueError(f'ROUTE_SCOPES: {key!r} is not "METHOD /path"')
            if not isinstance(scopes, list) or not all(isinstance(scope, str) for scope in scopes):
                raise ValueError(f"ROUTE_SCOPES: {key!r} must map to a list of scope names")
            method = "*" if match["method"] == "ANY" else match["method"]
            table[(method, match["path"])] = frozenset(scopes)
        return cls(table)

    def required(self, method: str, resource: str) -> frozenset[str]:
        """The scopes a request needs, by its method and its API Gateway resource (`/messages/{id}`)."""
        return self.table.get((method.upper(), resource), frozenset()) | self.table.get(
            ("*", resource), frozenset()
        )
