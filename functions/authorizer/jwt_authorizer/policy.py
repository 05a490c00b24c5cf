"""API Gateway's answer for a verified token: the IAM policy and the authorizer context.

API Gateway caches one authorizer result per token and reuses it for every route of the API for the TTL,
so the policy is written for the whole stage, never for the one method that happened to come first: an
Allow for everything in this API and stage, plus a Deny for each route whose scopes the token lacks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from json.encoder import encode_basestring_ascii
from typing import Any

from authorizer_context import CLIENT_ID, ISSUER, SCOPES, SUBJECT, encode_scopes
from route_table import Route, stage_resources

from .errors import Reason, TokenRejected
from .method_arn import MethodArn
from .providers import CLIENT_ID_CLAIMS

#: What the answer carries besides its policy: the principalId and every member of the context, measured
#: as the JSON the answer travels in (escapes included). API Gateway documents one bound on an
#: authorizer's answer, 8 KB, for WebSocket APIs (REST APIs document none); this keeps the answer of a
#: REST API under it with room for a policy of dozens of routes, and every function's event small.
MAX_CONTEXT_BYTES = 4_096
#: The longest value of an optional claim; a longer one is left out (and `context_truncated` says so).
MAX_CONTEXT_VALUE_BYTES = 1_024
#: The largest integer every JSON reader holds exactly: I-JSON (RFC 7493 section 2.2) expects numbers to
#: be IEEE 754 doubles, as API Gateway and JavaScript read them. A larger one travels as its digits.
MAX_EXACT_INTEGER = 2**53 - 1
#: Set (true) when optional claims were left out to keep within the bound.
TRUNCATED = "context_truncated"
#: Names no claim may take in the context: the members derived here (`scope` and `scp` are in `scopes`,
#: read one way), the flag, and the keys API Gateway adds to `requestContext.authorizer` itself.
_RESERVED = frozenset(
    {SUBJECT, ISSUER, SCOPES, CLIENT_ID, "scope", "scp", TRUNCATED, "principalId", "integrationLatency"}
)


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
    """The claims flattened to the string/number/boolean values API Gateway accepts, size-bounded.

    First what the functions rely on: `sub`, `iss`, `scopes` (the granted names, `authorizer_context`'s
    JSON array) and `client_id`. When these and the principalId (the `sub` again) leave no room within
    MAX_CONTEXT_BYTES, the token is refused (`context_too_large`): none of them is ever cut short or left
    out. Then the other claims, in the token's order, while they fit; any left out sets `context_truncated`.
    """
    subject, issuer = str(claims["sub"]), str(claims["iss"])
    context: dict[str, str | int | float | bool] = {
        SUBJECT: subject,
        ISSUER: issuer,
        SCOPES: encode_scopes(scopes),
    }
    client_id = client_id_of(claims)
    if client_id is not None:
        context[CLIENT_ID] = client_id
    required = _member_size("principalId", subject) + sum(_member_size(*member) for member in context.items())
    room = MAX_CONTEXT_BYTES - _member_size(TRUNCATED, True)
    if required > room:
        raise TokenRejected(
            Reason.CONTEXT_TOO_LARGE,
            f"sub (also the principalId), iss, scopes and client_id take {required} bytes; the context"
            f" has {room} for them",
        )
    budget = room - required
    omitted = False
    for name, value in claims.items():
        if value is None or name in _RESERVED:
            continue
        flat = _flatten(value)
        size = _json_size(flat)
        member = _json_size(name) + size + _MEMBER_PUNCTUATION
        if size > MAX_CONTEXT_VALUE_BYTES or member > budget:
            omitted = True
            continue
        context[name] = flat
        budget -= member
    if omitted:
        context[TRUNCATED] = True
    return context


#: Built once: json.dumps with options builds an encoder at every call.
_COMPACT_SORTED = json.JSONEncoder(separators=(",", ":"), sort_keys=True)


def _flatten(value: Any) -> str | int | float | bool:
    # Claims come from JSON, so a scalar's type is exactly one of these (no subclasses); floats are finite
    # (compact.py refuses NaN and numbers beyond a double) and a double's repr reads back as the same double.
    kind = type(value)
    if kind is str or kind is bool or kind is float:
        return value  # type: ignore[no-any-return]
    if kind is int:
        return value if -MAX_EXACT_INTEGER <= value <= MAX_EXACT_INTEGER else str(value)
    if kind is list and all(type(item) is str for item in value):
        # Lists of names are joined: groups, roles, audiences, permissions.
        return ",".join(value)
    return _COMPACT_SORTED.encode(_exact(value))


def _exact(value: Any) -> Any:
    """`value` with every integer beyond MAX_EXACT_INTEGER, at any depth, written as its digits."""
    if type(value) is int and not -MAX_EXACT_INTEGER <= value <= MAX_EXACT_INTEGER:
        return str(value)
    if type(value) is list:
        return [_exact(item) for item in value]
    if type(value) is dict:
        return {name: _exact(item) for name, item in value.items()}
    return value


#: `: ` and `, ` around a member, as json.dumps writes them by default.
_MEMBER_PUNCTUATION = 4


def _member_size(name: str, value: str | int | float | bool) -> int:
    """Bytes of `"name": value, ` in the answer's JSON."""
    return _json_size(name) + _json_size(value) + _MEMBER_PUNCTUATION


def _json_size(value: str | int | float | bool) -> int:
    if type(value) is str:
        # The ASCII-only spelling: the longest a JSON encoder writes it (json.dumps' default).
        return len(encode_basestring_ascii(value))
    if type(value) is bool:
        return 4 if value else 5
    return len(repr(value))
