"""Errors the API functions answer with, each carrying its HTTP status and a machine-readable code.

Handlers raise them; `responses.register_error_handlers` turns every one into a JSON response in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, Literal


class ApiError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    #: The level of the log line a refusal (4xx) gets, if any: a 5xx always gets an error line.
    logged_as: ClassVar[Literal["info", "warning"] | None] = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def headers(self) -> dict[str, str]:
        return {}

    def log_fields(self) -> dict[str, str]:
        """What the error's log line carries besides the message (never shown to the client)."""
        return {}


class InvalidRequest(ApiError):
    """The request body is not what the route accepts."""

    status = 400
    code = "invalid_request"


class MessageNotFound(ApiError):
    status = 404
    code = "not_found"

    def __init__(self, message_id: str) -> None:
        super().__init__(f"There is no message {message_id}")


class NotTheAuthor(ApiError):
    """Only a message's author may delete it: the token's `iss` and `sub` must both be the author's."""

    status = 403
    code = "forbidden"
    logged_as = "info"

    def __init__(self, message_id: str) -> None:
        super().__init__(f"Only the author of message {message_id} may delete it")
        self.message_id = message_id

    def log_fields(self) -> dict[str, str]:
        return {"message_id": self.message_id}


class StoreUnavailable(ApiError):
    """The table throttled the request, timed out or failed: the client may retry later."""

    status = 503
    code = "temporarily_unavailable"

    def __init__(self, operation: str, reason: str) -> None:
        super().__init__("The message store is unavailable; try again later")
        self.operation = operation
        self.reason = reason

    def log_fields(self) -> dict[str, str]:
        return {"operation": self.operation, "reason": self.reason}


class InsufficientScope(ApiError):
    """The caller's token lacks a scope the route requires (RFC 6750 section 3.1).

    The authorizer's Deny answers such a request first, with the ACCESS_DENIED gateway response and its
    challenge. A REST API renames this function's WWW-Authenticate to x-amzn-Remapped-WWW-Authenticate
    (docs/local-stack.md, "Headers a REST API renames"): the JSON body says the same.
    """

    status = 403
    code = "insufficient_scope"
    # The authorizer's policy denies every route ROUTE_SCOPES names to a token without its scopes, so a
    # request refused here got past the gateway's Deny: a spelling of the route the policy missed.
    logged_as = "warning"

    def __init__(self, missing: Iterable[str]) -> None:
        self.missing = sorted(missing)
        super().__init__(f"This route requires the scope(s): {' '.join(self.missing)}")

    def log_fields(self) -> dict[str, str]:
        return {"missing_scopes": " ".join(self.missing)}

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{" ".join(self.missing)}"'}


class MissingAuthorizerContext(ApiError):
    """The function was invoked without the JWT authorizer in front of it: a deployment mistake."""

    status = 500
    code = "authorizer_context_missing"

    def __init__(self, problem: str) -> None:
        super().__init__(
            f"The request reached this function without the JWT authorizer's context ({problem}); "
            "the route must be deployed behind the JwtAuthorizer"
        )


class Misconfigured(ApiError):
    """A variable the route needs is missing or malformed in the environment: a deployment mistake."""

    status = 500
    code = "misconfigured"
