"""Lambda entry point of the open routes: GET /public, and the API's protected resource metadata
(GET /.well-known/oauth-protected-resource, RFC 9728), both reachable without a token."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messages_api.event_formats import BothFormats
from messages_api.metadata_route import add_resource_metadata_route

logger = Logger()
app = Router()
add_resource_metadata_route(app, os.environ)


@app.get("/public")
def get_public() -> dict[str, Any]:
    return {"message": "Hello! This route is public: no token needed."}


both_formats = BothFormats(app, logger)  # a REST API's events and an HTTP API's (payload 2.0)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return both_formats.resolve(event, context)
