"""Lambda entry point of the open routes: GET /public, and the API's protected resource metadata
(GET /.well-known/oauth-protected-resource, RFC 9728), both reachable without a token."""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messages_api.errors import Misconfigured
from messages_api.resource_metadata import (
    METADATA_PATH,
    MetadataConfigurationError,
    ResourceMetadataSettings,
    resource_url,
)
from messages_api.responses import register_error_handlers

logger = Logger()
app = APIGatewayRestResolver()
register_error_handlers(app, logger)
# Read once at cold start. A bad value breaks only the metadata route (500, logged), not GET /public.
metadata: ResourceMetadataSettings | MetadataConfigurationError
try:
    metadata = ResourceMetadataSettings.from_env(os.environ)
except MetadataConfigurationError as problem:
    metadata = problem


@app.get("/public")
def get_public() -> dict[str, Any]:
    return {"message": "Hello! This route is public: no token needed."}


@app.get(METADATA_PATH)
def get_resource_metadata() -> Response[dict[str, Any]]:
    if isinstance(metadata, MetadataConfigurationError):
        raise Misconfigured(f"The resource metadata is not configured: {metadata}")
    document = metadata.document(resource_url(app.current_event.raw_event))
    # The same for every client of this URL, and it changes only with a deployment.
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=document,
        headers={"Cache-Control": "public, max-age=300"},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
