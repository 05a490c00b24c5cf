"""The orders routes of the example API: whoever the JWT authorizer let through, and what they asked.

The authorizer's context arrives in event["requestContext"]["authorizer"]: the token's `sub` and `iss`,
`scopes` (the granted names, a JSON array in a string) and other claims, as strings. A protected route
without it was reached without the authorizer (a route deployed without Auth, or `sam local start-api`,
which skips an authorizer it cannot resolve): it answers 500, never the data.
"""

from __future__ import annotations

import json
from typing import Any


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    route = f"{event['httpMethod']} {event['resource']}"
    if route == "GET /health":
        return _json(200, {"status": "ok"})
    caller = (event.get("requestContext") or {}).get("authorizer") or {}
    if not caller.get("sub"):
        return _json(
            500, {"error": "authorizer_context_missing", "message": "This route needs the authorizer"}
        )
    if route == "GET /orders":
        return _json(200, {"orders": [], "caller": caller["sub"]})
    if route == "POST /orders":
        return _json(201, {"created": True, "by": caller["sub"]})
    return _json(404, {"error": "not_found"})


def _json(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
