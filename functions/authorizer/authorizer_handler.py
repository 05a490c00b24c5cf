"""Lambda entry point of the API Gateway TOKEN authorizer.

Configuration is read and validated once per cold start: a bad variable stops the function at init with a
message naming it. The JWKS caches and HTTP session live in `_service` across warm invocations.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger

from jwt_authorizer.config import Settings
from jwt_authorizer.service import AuthorizerService
from jwt_authorizer.telemetry import Telemetry

SERVICE_NAME = os.environ.get("POWERTOOLS_SERVICE_NAME", "jwt-authorizer")
logger = Logger(service=SERVICE_NAME)


def _build_service() -> AuthorizerService:
    settings = Settings.from_env(os.environ)
    namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "JwtAuthorizer")
    return AuthorizerService.create(settings, Telemetry(logger, namespace, SERVICE_NAME))


_service = _build_service()


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return _service.handle(event)


def reset() -> None:
    """Rebuild from the current environment with empty caches, as a new cold start would (for tests)."""
    global _service
    _service = _build_service()
