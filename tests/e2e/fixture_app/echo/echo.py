"""Returns the event it was given and the environment it was imported with."""

from __future__ import annotations

import json
import os
from typing import Any

LABEL_AT_IMPORT = os.environ.get("LABEL")


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    if event["resource"] == "/broken":
        return {"statusCode": 200, "body": {"not": "a string"}}
    payload = {
        "label_at_import": LABEL_AT_IMPORT,
        "label_now": os.environ.get("LABEL"),
        "greeting": os.environ.get("GREETING"),
        "shared": os.environ.get("SHARED"),
        "function_name": context.function_name,
        "event": event,
    }
    # ?set=Name answers with a header Name: the gateway may pass it on, or rename it.
    wanted = (event.get("multiValueQueryStringParameters") or {}).get("set", [])
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"} | {name: f"set {name}" for name in wanted},
        "multiValueHeaders": {"X-Seen": ["one", "two"]},
        "body": json.dumps(payload),
    }
