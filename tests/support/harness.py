"""Drive the real authorizer the way API Gateway does, and read what it writes.

`Outcome` is what API Gateway would make of one invocation for the route it was called for: the policy
evaluated (explicit Deny wins; no Allow at all is a bug), `Unauthorized` (401), a server error (5xx), or
anything else (a bug).
`LogWatch` collects everything the authorizer logs and prints, to prove no token material leaks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from enum import Enum
from types import ModuleType
from typing import Any

# Re-exported: tests find them here too.
from devkit.logs import LogWatch as LogWatch  # noqa: PLC0414
from devkit.logs import watching_logs as watching_logs  # noqa: PLC0414
from jwt_authorizer import AuthorizerService, AuthorizerUnavailableError
from local.apigateway import AuthorizerConfigurationError, Decision, evaluate_policy

STAGE = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/dev"
ROUTE_SCOPES = {
    "GET /messages": ["messages:read"],
    "POST /messages": ["messages:write"],
    "DELETE /messages/{id}": ["messages:admin"],
}


class Outcome(Enum):
    ALLOW = "allow"  # API Gateway would call the backend
    DENY = "deny"  # 403: a valid token without the route's scopes
    UNAUTHORIZED = "unauthorized"  # 401: exactly Exception("Unauthorized")
    UNAVAILABLE = "unavailable"  # 5xx: the token could not be checked
    BUG = "bug"  # any other exception or a malformed answer


def token_event(authorization: object, route: str = "GET/profile") -> dict[str, Any]:
    return {"type": "TOKEN", "authorizationToken": authorization, "methodArn": f"{STAGE}/{route}"}


def policy_effect(policy: dict[str, Any], method_arn: str) -> Outcome:
    """API Gateway's evaluation of an authorizer policy for one methodArn (the local gateway's, which
    follows IAM): an explicit Deny wins over an Allow. A policy that allows nothing for the call is a BUG:
    the authorizer denies a route by an explicit Deny beside the stage's Allow, never by leaving it out."""
    try:
        decision = evaluate_policy(policy, method_arn)
    except AuthorizerConfigurationError:
        return Outcome.BUG  # API Gateway answers 500 for a malformed policy
    return {
        Decision.ALLOW: Outcome.ALLOW,
        Decision.EXPLICIT_DENY: Outcome.DENY,
        Decision.IMPLICIT_DENY: Outcome.BUG,
    }[decision]


def classify(call: Callable[[dict[str, Any]], Any], event: dict[str, Any]) -> tuple[Outcome, Any]:
    """Invoke once and say what API Gateway would answer; the second item is the result or the error."""
    try:
        result = call(event)
    except AuthorizerUnavailableError as error:
        return Outcome.UNAVAILABLE, error
    except Exception as error:
        if type(error) is Exception and str(error) == "Unauthorized":
            return Outcome.UNAUTHORIZED, error
        return Outcome.BUG, error
    try:
        # API Gateway needs strict JSON: a NaN or an infinity in the context is a 500 there.
        json.dumps(result, allow_nan=False)
        return policy_effect(result["policyDocument"], event["methodArn"]), result
    except (TypeError, ValueError, KeyError) as error:
        return Outcome.BUG, error


def load_handler(monkeypatch: Any, issuer: str, **environment: str) -> ModuleType:
    """The Lambda entry point after a cold start with this environment (and the suite's route table)."""
    monkeypatch.setenv("ISSUER", issuer)
    monkeypatch.setenv("AUDIENCE", environment.pop("AUDIENCE", "api://messages"))
    monkeypatch.setenv("ROUTE_SCOPES", json.dumps(ROUTE_SCOPES))
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    import authorizer_handler

    authorizer_handler.reset()
    return authorizer_handler


def install_clocks(
    handler: ModuleType, clock: Callable[[], float], now: Callable[[], float]
) -> AuthorizerService:
    """A cold start of the handler, as its own, but on the test's clocks."""
    handler.reset(clock=clock, now=now)
    service: AuthorizerService = handler.current_service()
    return service


class SteppingClock:
    """Real time that a test can also jump forward: for caches that must see hours pass while real
    network timeouts still run on the real clock."""

    def __init__(self, base: Callable[[], float] = time.monotonic) -> None:
        self._base = base
        self.offset = 0.0

    def __call__(self) -> float:
        return self._base() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds

    def wall(self) -> float:
        """The matching wall-clock time, for token NumericDates."""
        return time.time() + self.offset
