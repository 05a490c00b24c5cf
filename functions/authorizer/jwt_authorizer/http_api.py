"""An HTTP API's Lambda authorizer event (payload format 2.0), beside API Gateway's TOKEN event.

An HTTP API calls its authorizer with a REQUEST event: `version` "2.0", the `routeArn` of the call (its
stage, method and path as the client sent it), the `routeKey` of the route it matched (`GET
/messages/{id}`, `ANY /admin/{proxy+}`, or `$default`), the identity sources' values and the headers.
The pipeline decides on it as on a TOKEN event; only the reading differs:

- the credential is the `Authorization` header (the template makes it the identity source, so a
  request without it never reaches the authorizer);
- the route is the route key's: its own template, so `{id}` needs no reading of the path. An `ANY`
  route is read with the request's method, and `$default`, which names no route, with the routeArn's
  method and path.

The answer is the TOKEN event's: an IAM policy for the whole API (an Allow, and a Deny for each route
whose scopes the token lacks), not a simple response. An HTTP API caches the answer by its identity
sources and reuses it on every route, so a simple `{"isAuthorized": true}` given for a read would be
reused for a write; the policy is right on every route (docs/http-api.md, "Why an IAM policy").
A refused token raises `Unauthorized`, and one that could not be checked another error, as TOKEN does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, NoReturn

from .errors import Reason, TokenRejected
from .events import EventAdapter, TokenEvent
from .method_arn import MethodArn
from .request import AccessRequest, Decision

#: The `version` of a payload 2.0 event; a TOKEN event has none.
PAYLOAD_2_0 = "2.0"
#: The catch-all route's key: it names no method and no path.
DEFAULT_ROUTE = "$default"
_MAX_ROUTE_KEY = 1_024


class HttpApiEvent(TokenEvent):
    """An HTTP API's payload 2.0 REQUEST event in; the TOKEN event's IAM policy (and refusals) out."""

    def request(self, event: object) -> AccessRequest:
        if (
            not isinstance(event, dict)
            or event.get("version") != PAYLOAD_2_0
            or event.get("type") != "REQUEST"
        ):
            raise TokenRejected(Reason.MALFORMED_EVENT, "the event is not a payload 2.0 REQUEST event")
        headers = _lower_case_headers(event.get("headers"))
        return AccessRequest(headers.get("authorization"), _route_arn(event), headers)

    def route_of(self, event: object) -> str | None:
        if isinstance(event, dict):
            try:
                return _route_arn(event).route
            except TokenRejected:
                return None
        return None


def _route_arn(event: Mapping[str, Any]) -> MethodArn:
    """The routeArn's API and stage, with the method and path of the route the request matched."""
    called = MethodArn.parse(event.get("routeArn"))
    route_key = event.get("routeKey")
    if not isinstance(route_key, str) or len(route_key) > _MAX_ROUTE_KEY:
        raise TokenRejected(Reason.MALFORMED_EVENT, "the routeKey is missing or not a string")
    if route_key == DEFAULT_ROUTE:
        return called
    method, _, path = route_key.partition(" ")
    if not path.startswith("/") or not method:
        raise TokenRejected(Reason.MALFORMED_EVENT, "the routeKey is not METHOD /path or $default")
    # A route's own template names the route; an ANY route takes the request's method.
    method = called.method if method == "ANY" else method
    return dataclasses.replace(called, method=method, path=path.removeprefix("/"))


def _lower_case_headers(headers: object) -> dict[str, str]:
    """Headers by lower-case name, as payload 2.0 sends them. Two spellings of one name are refused
    rather than one chosen: API Gateway joins a repeated header into one value itself."""
    if headers is None:
        return {}
    if not isinstance(headers, dict):
        raise TokenRejected(Reason.MALFORMED_EVENT, "the headers are not an object")
    lowered: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TokenRejected(Reason.MALFORMED_EVENT, "a header is not a string")
        if name.lower() in lowered:
            raise TokenRejected(Reason.MALFORMED_EVENT, f"the header {name.lower()} is given twice")
        lowered[name.lower()] = value
    return lowered


class EventShapes:
    """The TOKEN event or an HTTP API's payload 2.0 event, told apart by the event itself.

    A payload 2.0 event says so (`version` "2.0"); a TOKEN event has no `version`, and anything that is
    not a payload 2.0 event is read as a TOKEN event, which refuses whatever lacks its `methodArn` and
    `authorizationToken` (401). Both are answered alike: the same IAM policy, the same refusal, the same
    server error, so the answer needs no memory of which event asked.
    """

    def __init__(self, token: TokenEvent, http_api: HttpApiEvent) -> None:
        self._token = token
        self._http_api = http_api

    def _adapter(self, event: object) -> EventAdapter:
        is_payload_2_0 = isinstance(event, dict) and event.get("version") == PAYLOAD_2_0
        return self._http_api if is_payload_2_0 else self._token

    def request(self, event: object) -> AccessRequest:
        return self._adapter(event).request(event)

    def route_of(self, event: object) -> str | None:
        return self._adapter(event).route_of(event)

    def allowed(self, decision: Decision) -> dict[str, Any]:
        return self._token.allowed(decision)

    def refused(self, rejection: TokenRejected) -> dict[str, Any]:
        return self._token.refused(rejection)

    def unavailable(self) -> NoReturn:
        self._token.unavailable()
