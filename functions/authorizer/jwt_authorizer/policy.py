"""API Gateway's answer for a verified token: the IAM policy and the authorizer context.

API Gateway caches one authorizer result per token and reuses it for every route of the API for the TTL,
so the policy is written for the whole stage, never for the one method that happened to come first: an
Allow for everything in this API and stage, plus a Deny for each route whose scopes the token lacks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from route_table import Route, stage_resources

from .method_arn import MethodArn
from .providers import CLIENT_ID_CLAIMS

#: API Gateway refuses authorizer results whose context is too large; keep well within it.
MAX_CONTEXT_VALUE_CHARS = 1_024
MAX_CONTEXT_CHARS = 4_096
#: Claims placed first in the context, whatever their size budget leaves for the rest.
_CORE_CONTEXT_KEYS = ("sub", "iss", "scope", "client_id")


def build_policy(method_arn: MethodArn, denied: Iterable[Route]) -> dict[str, Any]:
    allow, deny = stage_resources(method_arn.stage_prefix, denied)
    statements: list[dict[str, Any]] = [
        {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": allow}
    ]
    if deny:
        statements.append({"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": list(deny)})
    return {"Version": "2012-10-17", "Statement": statements}


def client_id_of(claims: dict[str, Any]) -> str | None:
    """The OAuth client the token was issued to: the first of the claims that name it (providers.py)."""
    for name in CLIENT_ID_CLAIMS:
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
