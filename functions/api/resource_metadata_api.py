"""Lambda entry point of GET /.well-known/oauth-protected-resource alone (RFC 9728): the protected resource
metadata of an API of your own, from its ISSUER and ROUTE_SCOPES (docs/protect-your-own-api.md)."""

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


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
