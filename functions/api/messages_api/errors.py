"""Errors the API functions answer with, each carrying its HTTP status and a machine-readable code.

Handlers raise them; `responses.register_error_handlers` turns every one into a JSON response in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar


class ApiError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def headers(self) -> dict[str, str]:
        return {}


class InvalidRequest(ApiError):
    """The request body is not what the route accepts."""

    status = 400
    code = "invalid_request"


class InsufficientScope(ApiError):
    """The caller's token lacks a scope the route requires (RFC 6750 section 3.1)."""

    status = 403
    code = "insufficient_scope"

    def __init__(self, missing: Iterable[str]) -> None:
        self.missing = sorted(missing)
        super().__init__(f"This route requires the scope(s): {' '.join(self.missing)}")

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
