"""One set of routes under both of API Gateway's event formats: a REST API's proxy events (payload 1.0) and
an HTTP API's payload 2.0 events.

The routes are written once, on a Powertools `Router`; `BothFormats` includes it in a REST resolver and an
HTTP resolver and hands each event to the one of its format. Where the two formats name the same thing
differently (the route's template, the query string, the authorizer's context), the functions read it here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, APIGatewayRestResolver
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from messages_api.responses import register_error_handlers

#: The `version` of an HTTP API's payload 2.0 event; a REST API's proxy event has no `version`.
PAYLOAD_2_0 = "2.0"
#: The route key of an HTTP API's catch-all route: it names no method and no path.
DEFAULT_ROUTE = "$default"


def is_payload_2_0(event: Mapping[str, Any]) -> bool:
    return event.get("version") == PAYLOAD_2_0


class BothFormats:
    """`router`'s routes, with the API's error handlers, answering either format."""

    def __init__(self, router: Router, logger: Logger) -> None:
        self._router = router
        self.rest = APIGatewayRestResolver()
        self.http = APIGatewayHttpResolver()
        for resolver in (self.rest, self.http):
            register_error_handlers(resolver, logger)
            resolver.include_router(router)

    def resolve(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        resolver = self.http if is_payload_2_0(event) else self.rest
        # A router reads its context (what a middleware appends) from the last resolver that included
        # it: point it at this event's, as Lambda runs one event at a time.
        self._router.api_resolver = resolver
        return resolver.resolve(event, context)


def route_of(event: BaseProxyEvent) -> tuple[str, str]:
    """The request's method and the path of the route it reached, as the template declares it.

    A REST API names the route's resource (`/messages/{id}`); an HTTP API its route key
    (`GET /messages/{id}`, `ANY /admin/{proxy+}`, or `$default`). An `ANY` route is read with the
    request's own method, and the `$default` route, which has no path of its own, with the request's path.
    """
    if isinstance(event, APIGatewayProxyEventV2):
        method, _, path = event.route_key.partition(" ")
        if event.route_key == DEFAULT_ROUTE or not path:
            return event.http_method, event.path
        return (event.http_method if method == "ANY" else method), path
    resource = event.get("resource")
    return event.http_method, resource if isinstance(resource, str) else event.path


def query_of(event: BaseProxyEvent) -> dict[str, list[str]]:
    """Every value of every query parameter, in order. An HTTP API joins repeated parameters with commas
    in `queryStringParameters`, so its raw query string is read instead."""
    if isinstance(event, APIGatewayProxyEventV2):
        return parse_qs(event.raw_query_string or "", keep_blank_values=True)
    return dict(event.multi_value_query_string_parameters or {})


def authorizer_context_of(event: Mapping[str, Any]) -> object:
    """The context the Lambda authorizer answered with: `requestContext.authorizer` in a REST API's event,
    `requestContext.authorizer.lambda` in an HTTP API's payload 2.0 event."""
    request_context = event.get("requestContext")
    authorizer = request_context.get("authorizer") if isinstance(request_context, Mapping) else None
    if is_payload_2_0(event):
        return authorizer.get("lambda") if isinstance(authorizer, Mapping) else None
    return authorizer
