"""Lambda entry point of the open routes: GET /public, and the API's protected resource metadata
(GET /.well-known/oauth-protected-resource, RFC 9728), both reachable without a token."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messages_api.metadata_route import add_resource_metadata_route
from messages_api.responses import register_error_handlers

logger = Logger()
app = APIGatewayRestResolver()
register_error_handlers(app, logger)
add_resource_metadata_route(app, os.environ)


@app.get("/public")
def get_public() -> dict[str, Any]:
    return {"message": "Hello! This route is public: no token needed."}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
