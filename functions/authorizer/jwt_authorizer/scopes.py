"""What a verified token grants: its scopes, and the values of the claims SCOPE_CLAIMS names."""

from __future__ import annotations

from typing import Any

from .errors import Reason, TokenRejected
from .providers import SCOPE_CLAIMS


def scopes_of(claims: dict[str, Any]) -> frozenset[str]:
    """The token's scopes: `scope` and/or `scp`, each a space-separated string or an array of strings.

    RFC 8693 and RFC 9068 define `scope` as a space-separated string, but Spring Authorization Server's
    `JwtGenerator` and ForgeRock AM issue it as a JSON array, as Okta does with `scp`. How a value is read
    is `_names_in`'s to say, for these claims and SCOPE_CLAIMS' alike.
    """
    scopes: set[str] = set()
    for name in SCOPE_CLAIMS:
        value = claims.get(name)
        if value is not None:
            scopes.update(_names_in(name, value))
    return frozenset(scopes)


def granted_scopes(
    claims: dict[str, Any], scopes: frozenset[str], scope_claims: tuple[str, ...]
) -> frozenset[str]:
    """What the routes are checked against: the scopes, plus the values of the SCOPE_CLAIMS claims.

    A name is first looked up as a top-level claim (`roles`, `cognito:groups`, Auth0's namespaced
    `https://example.com/roles`); when there is none and it has dots, it is followed as a path into
    nested objects (Keycloak's `realm_access.roles`). A claim that is absent grants nothing.
    """
    if not scope_claims:
        return scopes
    granted = set(scopes)
    for name in scope_claims:
        value = claim_at(claims, name)
        if value is not None:
            granted.update(_names_in(name, value))
    return frozenset(granted)


def _names_in(claim: str, value: object) -> list[str]:
    """The names a scope-like claim holds: a string of names separated by spaces, or an array of names.

    Only U+0020 separates names (RFC 6749 section 3.3: `scope-token *( SP scope-token )`). A tab, a line
    feed, a no-break space or any other character is part of a name, so "a<TAB>b" is one name, which no
    route can require (ROUTE_SCOPES takes only RFC 6749 scope-tokens): it grants nothing, where reading it
    as two names would grant both. An array element is one name whatever it holds: Okta's group
    "Support Team" stays one name. An empty string (two spaces in a row, or "") is no name.
    """
    if isinstance(value, str):
        return [name for name in value.split(" ") if name]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [name for name in value if name]
    raise TokenRejected(Reason.INVALID_SCOPE_CLAIM, f"'{claim[:64]}' is not a string or list of strings")


def claim_at(claims: dict[str, Any], name: str) -> Any:
    """The claim `name`, or the value at its dotted path into nested objects; None when absent."""
    if name in claims or "." not in name:
        return claims.get(name)
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value
