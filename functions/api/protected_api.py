"""Lambda entry point of the protected routes: GET /profile and the messages, stored in DynamoDB.

It answers a REST API's proxy events and an HTTP API's payload 2.0 events alike (messages_api.event_formats):
the routes below are written once.

The JWT authorizer has already verified the token and enforced the route's scopes. This function checks
both again from the authorizer context (defense in depth): a route deployed without the authorizer answers
500, a token without the route's scopes 403, never 200. Ownership is this function's alone: the token's
issuer and `sub`, together, are the author of what it posts, and only that author may delete a message.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, Router
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from messages_api.board import MessageBoard
from messages_api.event_formats import BothFormats, query_of, route_of
from messages_api.identity import Caller
from messages_api.messages import PageRequest, parse_message_id, read_new_message_text
from messages_api.store import MessageStore, StoreSettings, dynamodb_client
from route_table import RouteTable

logger = Logger()
app = Router()


def _build_board() -> MessageBoard:
    settings = StoreSettings.from_env(os.environ)
    return MessageBoard(MessageStore(dynamodb_client(settings), settings.table_name))


route_scopes = RouteTable.parse(os.environ.get("ROUTE_SCOPES", ""))
board = _build_board()


def reset() -> None:
    """Rebuild from the current environment, as a new cold start would (for tests)."""
    global route_scopes, board
    route_scopes = RouteTable.parse(os.environ.get("ROUTE_SCOPES", ""))
    board = _build_board()


def authorize(resolver: ApiGatewayResolver, next_middleware: NextMiddleware) -> Response[Any]:
    """Every request, before its route: who is calling, and do they have the route's scopes."""
    event = resolver.current_event
    caller = Caller.from_event(event.raw_event)
    caller.require(route_scopes.required(*route_of(event)))
    resolver.append_context(caller=caller)
    return next_middleware(resolver)


app.use(middlewares=[authorize])


def current_caller() -> Caller:
    caller: Caller = app.context["caller"]
    return caller


@app.get("/profile")
def get_profile() -> dict[str, Any]:
    return current_caller().profile()


@app.get("/messages")
def list_messages() -> dict[str, Any]:
    request = PageRequest.from_query(query_of(app.current_event))
    return board.newest(request).to_json()


@app.post("/messages")
def create_message() -> tuple[dict[str, Any], int]:
    event = app.current_event
    text = read_new_message_text(event.body, base64_encoded=bool(event.is_base64_encoded))
    message = board.post(text, author=current_caller().identity)
    logger.info(
        "message created",
        extra={"message_id": message.id, "author": message.author, "author_issuer": message.author_issuer},
    )
    return message.to_json(), 201


@app.get("/messages/<message_id>")
def get_message(message_id: str) -> dict[str, Any]:
    return board.read(parse_message_id(message_id)).to_json()


@app.delete("/messages/<message_id>")
def delete_message(message_id: str) -> Response[None]:
    checked_id, caller = parse_message_id(message_id), current_caller()
    board.delete(checked_id, caller=caller.identity)
    logger.info(
        "message deleted",
        extra={"message_id": checked_id, "author": caller.sub, "author_issuer": caller.issuer},
    )
    return Response(status_code=204, body=None)


both_formats = BothFormats(app, logger)


# Both formats carry the request id at requestContext.requestId (API_GATEWAY_REST and API_GATEWAY_HTTP).
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return both_formats.resolve(event, context)
