"""The Deny a policy holds for some routes, as the route table writes it.

Tests about which routes a token is denied name the routes by their own resource (`POST/messages`,
`DELETE/messages/*`); each route's Deny also covers its other spellings (a trailing slash, and for its
method, doubled slashes and percent-encodings), which `unit/test_route_table.py` spells out resource by
resource. Here they come from the route table itself, so those tests stay about which routes.
"""

from __future__ import annotations

import json

from route_table import RouteTable, stage_resources


def denied_resources(stage: str, *own_resources: str) -> list[str]:
    """The Deny's resources for the routes whose own resources (`<METHOD>/<path>`) these are."""
    keys = {}
    for resource in own_resources:
        method, _, path = resource.partition("/")
        template = "/".join("{parameter}" if segment == "*" else segment for segment in path.split("/"))
        keys[f"{method} /{template}"] = ["denied"]
    return list(stage_resources(stage, RouteTable.parse(json.dumps(keys)).routes)[1])
