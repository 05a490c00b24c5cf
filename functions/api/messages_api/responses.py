"""JSON error responses, and the one place that maps exceptions to them for a resolver."""

from __future__ import annotations

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from messages_api.errors import ApiError


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response[dict[str, str]]:
    # The same {"error", "message"} shape as the API's gateway responses (template.yaml).
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": code, "message": message},
        headers=headers or {},
    )


def register_error_handlers(app: ApiGatewayResolver, logger: Logger) -> None:
    @app.exception_handler(ApiError)
    def api_error(error: ApiError) -> Response[dict[str, str]]:
        fields = {"error": error.code, **error.log_fields()}
        if error.status >= 500:
            logger.error(error.message, extra=fields)
        elif error.logged_as == "warning":
            logger.warning(error.message, extra=fields)
        elif error.logged_as == "info":
            logger.info(error.message, extra=fields)
        return error_response(error.status, error.code, error.message, error.headers())

    @app.not_found
    def not_found(_: NotFoundError) -> Response[dict[str, str]]:
        event = app.current_event
        return error_response(404, "not_found", f"No route for {event.http_method} {event.path}")

    @app.exception_handler(Exception)
    def unexpected(_: Exception) -> Response[dict[str, str]]:
        # The traceback goes to the log (the event, with its Authorization header, never does).
        logger.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong on our side")
