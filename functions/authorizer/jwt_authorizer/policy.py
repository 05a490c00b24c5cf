"""From a verified token to API Gateway's answer: the IAM policy and the authorizer context.

API Gateway caches one authorizer result per token and reuses it for every route of the API for the TTL,
so the policy is written for the whole stage, never for the one method that happened to come first: an
Allow for everything in this API and stage, plus a Deny for each route whose scopes the token lacks.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from route_table import Route, stage_resources

from .errors import TokenRejected

_METHOD_ARN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):execute-api:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"(?P<api_id>[A-Za-z0-9]+)/(?P<stage>[A-Za-z0-9_.-]+)/(?P<method>[A-Z]+|\*)/(?P<path>[^\s]*)"
)

#: API Gateway refuses authorizer results whose context is too large; keep well within it.
MAX_CONTEXT_VALUE_CHARS = 1_024
MAX_CONTEXT_CHARS = 4_096
#: Claims placed first in the context, whatever their size budget leaves for the rest.
_CORE_CONTEXT_KEYS = ("sub", "iss", "scope", "client_id")


@dataclass(frozen=True)
class MethodArn:
    partition: str
    region: str
    account: str
    api_id: str
    stage: str
    method: str
    path: str

    @classmethod
    def parse(cls, value: object) -> MethodArn:
        if not isinstance(value, str) or len(value) > 2_048:
            raise TokenRejected("malformed_event", "the methodArn is missing or not a string")
        return _parse_method_arn(value)

    @functools.cached_property
    def stage_prefix(self) -> str:
        return f"arn:{self.partition}:execute-api:{self.region}:{self.account}:{self.api_id}/{self.stage}"

    @property
    def route(self) -> str:
        return f"{self.method} /{self.path}"


@functools.lru_cache(maxsize=1_024)
def _parse_method_arn(value: str) -> MethodArn:
    # A warm function sees the same few ARNs again and again; a failed parse raises and is not kept.
    match = _METHOD_ARN.fullmatch(value)
    if match is None:
        raise TokenRejected("malformed_event", "the methodArn is not an execute-api ARN")
    return MethodArn(**match.groupdict())


def scopes_of(claims: dict[str, Any]) -> frozenset[str]:
    """The token's scopes: `scope` and/or `scp`, each a space-separated string or an array of strings.

    RFC 8693 and RFC 9068 define `scope` as a space-separated string, but Spring Authorization Server's
    `JwtGenerator` and ForgeRock AM issue it as a JSON array, as Okta does with `scp`.
    """
    scopes: set[str] = set()
    for name in ("scope", "scp"):
        value = claims.get(name)
        if value is not None:
            scopes.update(_names_in(name, value))
    return frozenset(scopes)


def granted_scopes(
    claims: dict[str, Any], scopes: frozenset[str], scope_claims: tuple[str, ...]
) -> frozenset[str]:
    """What the routes are checked against: the scopes, plus the values of the SCOPE_CLAIMS claims.

    A name is first looked up as a top-level claim (`roles`, `cognito:groups`, Auth0's namespaced
    `https://example.com/roles`); when there is none and it has dots, it is followed as a path into
    nested objects (Keycloak's `realm_access.roles`). A claim that is absent grants nothing.
    """
    if not scope_claims:
        return scopes
    granted = set(scopes)
    for name in scope_claims:
        value = claim_at(claims, name)
        if value is not None:
            granted.update(_names_in(name, value))
    return frozenset(granted)


def _names_in(claim: str, value: object) -> list[str]:
    """The names a scope-like claim holds: a space-separated string, or an array of them."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return value
    raise TokenRejected("invalid_scope_claim", f"'{claim[:64]}' is not a string or list of strings")


def claim_at(claims: dict[str, Any], name: str) -> Any:
    """The claim `name`, or the value at its dotted path into nested objects; None when absent."""
    if name in claims or "." not in name:
        return claims.get(name)
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def build_policy(method_arn: MethodArn, denied: Iterable[Route]) -> dict[str, Any]:
    allow, deny = stage_resources(method_arn.stage_prefix, denied)
    statements: list[dict[str, Any]] = [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": allow}
    ]
    if deny:
        statements.append({"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": list(deny)})
    return {"Version": "2012-10-17", "Statement": statements}


def client_id_of(claims: dict[str, Any]) -> str | None:
    """The OAuth client the token was issued to: client_id (RFC 9068), cid (Okta) or azp (OIDC)."""
    for name in ("client_id", "cid", "azp"):
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def build_context(claims: dict[str, Any], scopes: frozenset[str]) -> dict[str, str | int | float | bool]:
    """The claims flattened to the string/number/boolean values API Gateway accepts, size-bounded."""
    subject, issuer, scope = str(claims["sub"]), str(claims["iss"]), " ".join(sorted(scopes))
    context: dict[str, str | int | float | bool] = {"sub": subject, "iss": issuer, "scope": scope}
    budget = MAX_CONTEXT_CHARS - (len("sub") + len(subject) + len("iss") + len(issuer))
    budget -= len("scope") + len(scope)
    client_id = client_id_of(claims)
    if client_id is not None:
        context["client_id"] = client_id
        budget -= len("client_id") + len(client_id)
    omitted = False
    for name, value in claims.items():
        if value is None or name in context or name in _CORE_CONTEXT_KEYS:
            continue
        # Claims come from JSON, so a scalar's type is exactly one of these (no subclasses).
        flat = value if type(value) in _SCALAR_TYPES else _flatten(value)
        size = len(flat) if type(flat) is str else len(str(flat))
        if size > MAX_CONTEXT_VALUE_CHARS or len(name) + size > budget:
            omitted = True
            continue
        context[name] = flat
        budget -= len(name) + size
    if omitted:
        context["context_truncated"] = True
    return context


_SCALAR_TYPES = frozenset({str, int, float, bool})


def _flatten(value: Any) -> str | int | float | bool:
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        # Lists of names are joined: groups, roles, audiences, permissions.
        return ",".join(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)
