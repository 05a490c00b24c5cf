"""Who is calling, as the JWT authorizer told API Gateway.

The authorizer's context arrives in `event.requestContext.authorizer` from a REST API, its values
stringified by API Gateway, next to the `principalId` and `integrationLatency` that API Gateway adds itself;
from an HTTP API (payload 2.0) in `event.requestContext.authorizer.lambda`. The caller is the
pair (issuer, subject): a `sub` is unique only within its issuer (OIDC Core section 2), so two trusted
issuers may each have an alice. The caller's scopes are the names the authorizer checked the routes
against, read from the context's one `scopes` member through `authorizer_context`, never split out of a
string. Which scopes a route requires comes from `route_table`, the module the authorizer enforces
`ROUTE_SCOPES` with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from authorizer_context import CLIENT_ID, ISSUER, SCOPES, SUBJECT, ScopesError, decode_scopes
from messages_api.errors import InsufficientScope, MissingAuthorizerContext
from messages_api.event_formats import authorizer_context_of

#: Keys of the authorizer context that are not claims: the core ones read into fields, and what API
#: Gateway adds itself.
_NOT_CLAIMS = frozenset({SUBJECT, ISSUER, SCOPES, CLIENT_ID, "principalId", "integrationLatency"})


@dataclass(frozen=True)
class Identity:
    """One caller: a subject of one issuer. Equal only when both are."""

    issuer: str
    subject: str


@dataclass(frozen=True)
class Caller:
    sub: str
    issuer: str
    scopes: frozenset[str]
    client_id: str | None = None
    claims: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_event(cls, event: Mapping[str, Any]) -> Caller:
        context = authorizer_context_of(event)
        if not isinstance(context, Mapping) or not context:
            raise MissingAuthorizerContext("requestContext.authorizer is absent")
        sub, issuer = context.get(SUBJECT), context.get(ISSUER)
        if not isinstance(sub, str) or not sub:
            raise MissingAuthorizerContext(f"it has no '{SUBJECT}'")
        if not isinstance(issuer, str) or not issuer:
            raise MissingAuthorizerContext(f"it has no '{ISSUER}'")
        try:
            scopes = decode_scopes(context.get(SCOPES))
        except ScopesError as error:
            raise MissingAuthorizerContext(str(error)) from None
        client_id = context.get(CLIENT_ID)
        return cls(
            sub=sub,
            issuer=issuer,
            scopes=scopes,
            client_id=client_id if isinstance(client_id, str) and client_id else None,
            claims={name: value for name, value in context.items() if name not in _NOT_CLAIMS},
        )

    @property
    def identity(self) -> Identity:
        return Identity(self.issuer, self.sub)

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
