"""GET /.well-known/oauth-protected-resource on a resolver: the sample's public function serves it, and so
can a function of your own API (resource_metadata_api.py, see docs/protect-your-own-api.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

from messages_api.errors import InvalidRequest, Misconfigured
from messages_api.resource_metadata import (
    METADATA_PATH,
    MetadataConfigurationError,
    ResourceMetadataSettings,
    UnknownHost,
    UnknownResourceUrl,
    resource_url,
)


def add_resource_metadata_route(app: BaseRouter, env: Mapping[str, str]) -> None:
    """Serve the RFC 9728 document on `app`, from ISSUER, ROUTE_SCOPES and RESOURCE_DOCUMENTATION in `env`.

    The variables are read now, at cold start. A bad value breaks only this route (500, logged by the
    app's error handler), not the app's other routes.
    """
    settings: ResourceMetadataSettings | MetadataConfigurationError
    try:
        settings = ResourceMetadataSettings.from_env(env)
    except MetadataConfigurationError as problem:
        settings = problem

    @app.get(METADATA_PATH)
    def get_resource_metadata() -> Response[dict[str, Any]]:
        if isinstance(settings, MetadataConfigurationError):
            raise Misconfigured(f"The resource metadata is not configured: {settings}")
        try:
            resource = resource_url(app.current_event.raw_event)
        except UnknownHost:
            raise InvalidRequest("The request's Host is not a host name") from None
        except UnknownResourceUrl as problem:
            raise Misconfigured(f"The route was not called through API Gateway: {problem}") from None
        document = settings.document(resource)
        # The same for every client of this URL, and it changes only with a deployment.
        return Response(
            status_code=200,
            content_type=content_types.APPLICATION_JSON,
            body=document,
            headers={"Cache-Control": "public, max-age=300"},
        )
