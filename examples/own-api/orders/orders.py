"""The orders routes of the example API: whoever the JWT authorizer let through, and what they asked.

The authorizer's context arrives in event["requestContext"]["authorizer"]: the token's `sub`, `scope`,
`iss` and other claims, as strings. No token ever reaches this code unchecked.
"""

from __future__ import annotations

import json
from typing import Any


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    route = f"{event['httpMethod']} {event['resource']}"
    if route == "GET /health":
        return _json(200, {"status": "ok"})
    caller = (event.get("requestContext") or {}).get("authorizer") or {}
    if route == "GET /orders":
        return _json(200, {"orders": [], "caller": caller.get("sub")})
    if route == "POST /orders":
        return _json(201, {"created": True, "by": caller.get("sub")})
    return _json(404, {"error": "not_found"})


def _json(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
