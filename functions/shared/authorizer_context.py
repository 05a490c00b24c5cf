"""The members of the authorizer context that the functions behind the JWT authorizer rely on.

API Gateway hands the authorizer's `context` to the integration in `event.requestContext.authorizer`, and
takes only strings, numbers and booleans as its values (an array or object gives 500). So the names a
token was granted, the ones the authorizer checked the routes against, travel as one JSON array in a
string: `"scopes": "[\\"Support Team\\",\\"messages:read\\"]"`. Each name arrives exactly as it was checked,
a name with a space in it still one name, and nothing ever splits a string to get them back. Both builds
ship this file (functions/python-bytecode.mk copies it next to each handler), so the authorizer that
writes the list and the functions that read it use one encoding.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

#: The caller's subject and its issuer: together, and only together, they name one caller.
SUBJECT = "sub"
ISSUER = "iss"
#: The granted names, a JSON array of strings (`encode_scopes`).
SCOPES = "scopes"
#: The OAuth client the token was issued to, when it names one.
CLIENT_ID = "client_id"


#: Built once: json.dumps with options builds an encoder at every call.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


class ScopesError(ValueError):
    """The context's `scopes` is not what the JWT authorizer writes."""


def encode_scopes(scopes: Iterable[str]) -> str:
    """The `scopes` value for these names: a compact JSON array, sorted, so one set has one spelling."""
    return _COMPACT.encode(sorted(scopes))


def decode_scopes(value: object) -> frozenset[str]:
    """The names in a `scopes` value; ScopesError unless it is a JSON array of non-empty strings."""
    if value is None:
        raise ScopesError(f"it has no '{SCOPES}'")
    try:
        names = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        names = None
    if not isinstance(names, list) or not all(isinstance(name, str) and name for name in names):
        raise ScopesError(f"its '{SCOPES}' is not a JSON array of names")
    return frozenset(names)
