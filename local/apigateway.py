"""What API Gateway (REST) does around a TOKEN authorizer, as plain functions and small classes.

- the identity header and its validation expression, checked before the authorizer is called;
- the authorizer's answer: `Unauthorized` → 401, other errors → 5xx, a malformed result (or a context
  value that is an object or array) → AuthorizerConfigurationException;
- the IAM policy, evaluated for the request's method ARN: an explicit Deny wins, `*` and `?` match
  across `/` as IAM wildcards do;
- the result cache: keyed by the identity header's value, shared by every route of the API;
- gateway responses: status, headers and body templates with their `$context` variables.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, TypeVar

_Key = TypeVar("_Key")
_Result = TypeVar("_Result")

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
API_ID = "local0api1"


def method_arn(api_id: str, stage: str, method: str, path: str) -> str:
    """The ARN API Gateway passes to the authorizer for a request: the actual path, not the resource.

    `path` is spelled as the client sent it: a trailing slash, a doubled slash and a percent-encoding stay
    (where AWS's own spelling is not known, this is the one a Deny could miss; docs/security.md).
    """
    return f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{api_id}/{stage}/{method}/{path.removeprefix('/')}"


# Routing ---------------------------------------------------------------------------------------------


def routed_path(path: str) -> str:
    """The path a REST API's proxy event carries for the path the client sent: leading slashes are one,
    a trailing slash and percent-encodings stay (docs/local-stack.md, "Paths and their spellings")."""
    return "/" + path.lstrip("/")


def routed_segments(path: str) -> list[str]:
    """The segments a REST API matches against its resources: leading slashes ignored, and one trailing
    slash; any other empty segment stays (and matches no literal or parameter segment)."""
    body = path.lstrip("/").removesuffix("/")
    return body.split("/") if body else []


# Integration responses -------------------------------------------------------------------------------

#: Headers a Lambda proxy integration's answer cannot set: a REST API renames each to
#: `x-amzn-Remapped-<name>` (API Gateway developer guide, "Amazon API Gateway important notes" for REST
#: APIs; the set recorded against AWS in localstack's tests/aws/services/apigateway header remapping
#: snapshots). docs/local-stack.md lists them.
REMAPPED_RESPONSE_HEADERS = (
    "Authorization",
    "Connection",
    "Content-Length",
    "Content-MD5",
    "Date",
    "Expect",
    "Host",
    "Max-Forwards",
    "Proxy-Authenticate",
    "Server",
    "Trailer",
    "Upgrade",
    "User-Agent",
    "WWW-Authenticate",
)
_REMAPPED = frozenset(name.lower() for name in REMAPPED_RESPONSE_HEADERS)


def remapped_header(name: str) -> str:
    """The name a header of a Lambda proxy integration's answer reaches the client under."""
    return f"x-amzn-Remapped-{name}" if name.lower() in _REMAPPED else name


# Identity ------------------------------------------------------------------------------------------


def identity_is_acceptable(value: str | None, validation_expression: re.Pattern[str] | None) -> bool:
    """API Gateway answers 401 without calling the authorizer when this is False."""
    if value is None or not value.strip():
        return False
    # API Gateway applies the expression to the whole header value (Java's Pattern.matches).
    return validation_expression is None or validation_expression.fullmatch(value) is not None


# Authorizer results ---------------------------------------------------------------------------------


class AuthorizerConfigurationError(Exception):
    """The authorizer returned something API Gateway cannot use: 500 AuthorizerConfigurationException."""


ContextValue = str | int | float | bool | None


@dataclass(frozen=True)
class AuthorizerResult:
    principal_id: str
    policy: dict[str, Any]
    context: dict[str, ContextValue] = field(default_factory=dict)

    @classmethod
    def parse(cls, result: object) -> AuthorizerResult:
        if not isinstance(result, dict):
            raise AuthorizerConfigurationError("the authorizer result is not an object")
        principal_id, policy = principal_and_policy(result)
        context = result.get("context") or {}
        if not isinstance(context, dict):
            raise AuthorizerConfigurationError("context is not an object")
        for key, value in context.items():
            if value is not None and not isinstance(value, (str, int, float, bool)):
                raise AuthorizerConfigurationError(
                    f"context value {key!r} is a {type(value).__name__}: only strings, numbers and"
                    " booleans are allowed"
                )
        return cls(principal_id, policy, dict(context))

    def request_context(self, integration_latency_ms: int) -> dict[str, Any]:
        """`requestContext.authorizer` of the proxy event: context values stringified, as REST APIs do."""
        return {
            **{key: _stringified(value) for key, value in self.context.items()},
            "principalId": self.principal_id,
            "integrationLatency": integration_latency_ms,
        }


def principal_and_policy(result: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """An IAM policy answer's principalId and policyDocument; AuthorizerConfigurationError if malformed."""
    principal_id = result.get("principalId")
    if not isinstance(principal_id, str) or not principal_id:
        raise AuthorizerConfigurationError("principalId is missing or not a string")
    policy = result.get("policyDocument")
    if not isinstance(policy, dict):
        raise AuthorizerConfigurationError("policyDocument is missing or not an object")
    _statements(policy)  # refuse a malformed policy now, as API Gateway does
    return principal_id, policy


def _stringified(value: ContextValue) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# Policy evaluation ---------------------------------------------------------------------------------


class Decision(Enum):
    ALLOW = "allow"
    EXPLICIT_DENY = "deny"
    IMPLICIT_DENY = "no allow"


def evaluate_policy(policy: Mapping[str, Any], resource_arn: str) -> Decision:
    """IAM evaluation for `execute-api:Invoke` on `resource_arn`: explicit Deny > Allow > implicit deny."""
    allowed = False
    for statement in _statements(policy):
        if not (_matches_any(statement, "Action", "execute-api:Invoke", case_sensitive=False)):
            continue
        if not _matches_any(statement, "Resource", resource_arn, case_sensitive=True):
            continue
        if statement["Effect"] == "Deny":
            return Decision.EXPLICIT_DENY
        allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def _statements(policy: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw = policy.get("Statement")
    statements = [raw] if isinstance(raw, dict) else raw
    if not isinstance(statements, list) or not statements:
        raise AuthorizerConfigurationError("policyDocument.Statement is missing or empty")
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect") not in ("Allow", "Deny"):
            raise AuthorizerConfigurationError("each statement needs Effect Allow or Deny")
        for name in ("Action", "Resource"):
            values = statement.get(name)
            values = [values] if isinstance(values, str) else values
            if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
                raise AuthorizerConfigurationError(f"each statement needs {name}: a string or strings")
    return statements


def _matches_any(statement: Mapping[str, Any], name: str, value: str, case_sensitive: bool) -> bool:
    patterns = statement[name]
    patterns = [patterns] if isinstance(patterns, str) else patterns
    return any(_wildcard(pattern, case_sensitive).fullmatch(value) for pattern in patterns)


@functools.lru_cache(maxsize=1024)
def _wildcard(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    # IAM wildcards: `*` any run of characters (including `/` and `:`), `?` exactly one.
    regex = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile(regex, re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE)


# The authorizer result cache (a REST API's keyed by the identity header, an HTTP API's by its identity
# sources' values) -------------------------------------------------------------------------


class AuthorizerCache(Generic[_Key, _Result]):
    """Authorizer results by identity value, for `ttl_seconds`, reused by every route of the API."""

    def __init__(self, ttl_seconds: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._entries: dict[_Key, tuple[float, _Result]] = {}
        self._lock = threading.Lock()

    def get(self, identity: _Key) -> _Result | None:
        with self._lock:
            entry = self._entries.get(identity)
            if entry is None:
                return None
            expires_at, result = entry
            if self._clock() >= expires_at:
                del self._entries[identity]
                return None
            return result

    def put(self, identity: _Key, result: _Result) -> None:
        if self.ttl_seconds <= 0:
            return  # a TTL of 0 turns caching off
        with self._lock:
            now = self._clock()
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            self._entries[identity] = (now + self.ttl_seconds, result)


# Gateway responses -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GatewayResponse:
    """One entry of x-amazon-apigateway-gateway-responses (or an AWS::ApiGateway::GatewayResponse)."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)  # header name → mapping expression
    templates: dict[str, str] = field(default_factory=dict)  # content type → body template

    @classmethod
    def from_extension(cls, document: Mapping[str, Any]) -> GatewayResponse:
        prefix = "gatewayresponse.header."
        parameters = document.get("responseParameters") or {}
        status = document.get("statusCode")
        return cls(
            status=int(status) if status is not None else None,
            headers={
                name[len(prefix) :]: str(value)
                for name, value in parameters.items()
                if name.startswith(prefix)
            },
            templates={str(k): str(v) for k, v in (document.get("responseTemplates") or {}).items()},
        )


# Response types API Gateway uses here, their default status and the message `$context.error.message` has.
DEFAULT_STATUS = {
    "UNAUTHORIZED": 401,
    "ACCESS_DENIED": 403,
    "AUTHORIZER_FAILURE": 500,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "BAD_GATEWAY": 502,
}
_DEFAULT_TEMPLATE = '{"message":$context.error.messageString}'
_CONTEXT_VARIABLE = re.compile(
    r"\$(?:\{context\.([A-Za-z0-9_.]+)\}|context\.([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*))"
)


@dataclass(frozen=True)
class RenderedResponse:
    status: int
    headers: dict[str, str]
    body: str


class GatewayResponses:
    def __init__(self, configured: Mapping[str, GatewayResponse]) -> None:
        self._configured = dict(configured)

    def render(
        self,
        response_type: str,
        message: str | None,
        context: Mapping[str, Any],
        request_headers: Mapping[str, str],
        query: Mapping[str, str],
    ) -> RenderedResponse:
        """The response API Gateway sends for `response_type`, with DEFAULT_4XX/5XX as fallbacks."""
        default_status = DEFAULT_STATUS[response_type]
        family = "DEFAULT_4XX" if default_status < 500 else "DEFAULT_5XX"
        specific = self._configured.get(response_type)
        fallback = self._configured.get(family, GatewayResponse())
        chosen = specific or fallback
        status = chosen.status or default_status
        variables = {
            **context,
            "error.message": message,
            "error.messageString": json.dumps(message),
            "error.responseType": response_type,
        }
        headers = {"Content-Type": "application/json"}
        for name, expression in {**fallback.headers, **chosen.headers}.items():
            value = _header_value(expression, request_headers, query)
            if value is not None:
                headers[name] = value
        templates = chosen.templates or fallback.templates
        template = templates.get("application/json") or next(iter(templates.values()), _DEFAULT_TEMPLATE)
        return RenderedResponse(status, headers, render_template(template, variables))


def render_template(template: str, variables: Mapping[str, Any]) -> str:
    """Substitute `$context.x` and `${context.x}`; unknown variables render empty, as in API Gateway."""

    def substitute(match: re.Match[str]) -> str:
        value = variables.get(match.group(1) or match.group(2))
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return _CONTEXT_VARIABLE.sub(substitute, template)


def _header_value(expression: str, headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    if len(expression) >= 2 and expression.startswith("'") and expression.endswith("'"):
        return expression[1:-1]
    lowered = {name.lower(): value for name, value in headers.items()}
    for prefix, source in (("method.request.header.", lowered), ("method.request.querystring.", query)):
        if expression.startswith(prefix):
            name = expression[len(prefix) :]
            return source.get(name.lower() if source is lowered else name)
    return None
