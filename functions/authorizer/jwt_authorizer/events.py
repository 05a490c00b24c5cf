"""Adapters between API Gateway's event shapes and the pipeline.

An adapter reads an event into the pipeline's `AccessRequest`, and writes the pipeline's outcome in that
event's shape: a `Decision`, a rejected token (the caller gets 401), or a token that could not be checked
(5xx). `TokenEvent` is the TOKEN authorizer's. A REQUEST authorizer (REST, payload 1.0) or an HTTP API
authorizer (payload 2.0) is one more class with these four methods, handed to `build_authorizer`; the
pipeline, the verification and the keys stay as they are.
"""

from __future__ import annotations

from typing import Any, NoReturn, Protocol

from .errors import Reason, TokenRejected
from .method_arn import MethodArn
from .request import AccessRequest, Decision

#: The only error text API Gateway turns into 401; anything else a TOKEN authorizer raises becomes 5xx.
UNAUTHORIZED = "Unauthorized"


class AuthorizerUnavailableError(Exception):
    """Raised to API Gateway when the token could not be checked: it answers 5xx, never 401 or Allow."""


class EventAdapter(Protocol):
    def request(self, event: object) -> AccessRequest:
        """The call the event asks about; TokenRejected when the event is not of this shape."""

    def route_of(self, event: object) -> str | None:
        """The event's route as "METHOD /path" for the logs, or None; never raises."""

    def allowed(self, decision: Decision) -> dict[str, Any]:
        """The answer for a verified token."""

    def refused(self, rejection: TokenRejected) -> dict[str, Any]:
        """The answer (or the exception) for a token that is not acceptable: the caller gets 401."""

    def unavailable(self) -> NoReturn:
        """The exception for a token that could not be checked: the caller gets 5xx."""


class TokenEvent:
    """API Gateway's TOKEN authorizer: {type, authorizationToken, methodArn} in, an IAM policy out."""

    def request(self, event: object) -> AccessRequest:
        if not isinstance(event, dict):
            raise TokenRejected(Reason.MALFORMED_EVENT, "the event is not an object")
        method_arn = MethodArn.parse(event.get("methodArn"))
        return AccessRequest(event.get("authorizationToken"), method_arn)

    def route_of(self, event: object) -> str | None:
        if isinstance(event, dict):
            try:
                return MethodArn.parse(event.get("methodArn")).route
            except TokenRejected:
                return None
        return None

    def allowed(self, decision: Decision) -> dict[str, Any]:
        return {
            "principalId": decision.principal_id,
            "policyDocument": decision.policy,
            "context": decision.context,
        }

    def refused(self, rejection: TokenRejected) -> dict[str, Any]:
        raise Exception(UNAUTHORIZED) from None  # noqa: TRY002 - API Gateway matches this exact text

    def unavailable(self) -> NoReturn:
        raise AuthorizerUnavailableError("the token could not be checked") from None
