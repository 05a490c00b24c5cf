"""`ROUTE_SCOPES`, parsed once: which scopes each route of the API requires.

The one module that knows the route format. The JWT authorizer turns it into the policy's Deny
statements; the protected function re-checks the same table from the authorizer context; both builds
ship this file (functions/python-bytecode.mk copies it next to each handler).

`ROUTE_SCOPES` is a JSON object of "METHOD /path" (as the template declares the route: `GET /messages`,
`DELETE /messages/{id}`, `ANY /admin/{proxy+}`) to the list of scopes that route requires, all of them.
METHOD is an HTTP method, or `ANY` or `*` for every method.

A route covers a request by the rule API Gateway evaluates the authorizer's policy with: a route is
written as IAM resources `<stage ARN>/<METHOD>/<path>`, its path parameters and a `*` method become
IAM's `*`, and `*` matches any run of characters, slashes included. So the routes a token's Deny covers
and the scopes the function requires for a request are one answer, never two.

A REST API routes more than one spelling of a path to a method, and the method ARN the authorizer sees
carries the spelling the client sent. A route therefore covers, besides its own spelling:

- its path with a trailing slash (`/orders/` reaches `POST /orders`);
- for its method, every path with an empty segment (`//orders`, `/orders//`, `/a//b`) or a
  percent-encoded character (`/%6Frders`): API Gateway routes some of them to the method and keeps their
  spelling in the ARN, and for the rest it is not known whether it does, so all of them are covered.

Letter case is not a spelling: REST API resource paths are case-sensitive, so `/Orders` never reaches
`/orders`. docs/security.md ("Routes and their spellings") gives the sources.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

#: The environment variable this table is read from (named in every error).
VARIABLE = "ROUTE_SCOPES"
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
ANY_METHOD = "*"

_ROUTE_KEY = re.compile(r"(?P<method>[A-Z]+|\*) (?P<path>/\S*)")
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+")  # RFC 6749 scope-token
_PATH_PARAMETER = re.compile(r"\{[^/{}]+\}")
#: After "<METHOD>/": the spellings of any path of a method that its denied routes are denied in too, as
#: IAM resource patterns: a leading empty segment, an empty segment further on, a percent-encoding.
_ODD_SPELLINGS = ("/*", "*//*", "*%*")


class RouteTableError(ValueError):
    """`ROUTE_SCOPES` is not a route table; `problem` says why, the message names the variable too."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"{VARIABLE}: {problem}")
        self.problem = problem


@dataclass(frozen=True)
class Route:
    """A route of the API and the scopes a token needs for it (all of them)."""

    method: str  # an HTTP method, or "*" for any
    path: str  # as in the template, e.g. /messages or /messages/{id}
    scopes: frozenset[str]

    @property
    def key(self) -> str:
        """The route as ROUTE_SCOPES and the logs write it: "GET /messages/{id}"."""
        return f"{self.method} {self.path}"

    @property
    def resource_path(self) -> str:
        """`<METHOD>/<path>` as it ends the route's IAM resource: path parameters become `*`."""
        return f"{self.method}/{_PATH_PARAMETER.sub('*', self.path.removeprefix('/'))}"

    @property
    def own_resource_paths(self) -> tuple[str, ...]:
        """The route's own spelling, and the same with a trailing slash (unless `*` already covers it)."""
        own = self.resource_path
        # A path ending in a parameter already covers its trailing slash (`*` spans it); the root has none.
        return (own,) if own.endswith(("*", "/")) else (own, f"{own}/")

    @property
    def resource_paths(self) -> tuple[str, ...]:
        """Every `<METHOD>/<path>` pattern the route's Deny is written with: its own spellings, and the
        odd spellings of any path of its method (see the module's doc)."""
        return (*self.own_resource_paths, *(f"{self.method}/{odd}" for odd in _ODD_SPELLINGS))

    def resource(self, stage_prefix: str) -> str:
        """The route's own IAM resource in one API stage (`arn:…:execute-api:…:<api>/<stage>`)."""
        return f"{stage_prefix}/{self.resource_path}"

    def matches(self, method: str, path: str) -> bool:
        """True when a request for `method` and `path` falls under this route's resources.

        `path` is the request's path as the client spelled it (`/messages/42`, `/messages/`,
        `//messages`: a methodArn's path after a `/`) or its template resource (`/messages/{id}`). It is
        read as IAM reads the method ARN `<METHOD>/<path without its first slash>`: any further slash is
        part of the spelling. A path without its leading slash (`messages/42`) is read as if it had one.
        """
        method = method.upper()
        if self.method not in (ANY_METHOD, method):
            return False  # every pattern of the route starts with its method
        return (
            _resources_pattern(self.resource_paths).fullmatch(f"{method}/{path.removeprefix('/')}")
            is not None
        )


@dataclass(frozen=True)
class RouteTable:
    routes: tuple[Route, ...] = ()

    @classmethod
    def parse(cls, raw: str) -> RouteTable:
        """The table in ROUTE_SCOPES; an empty value is an empty table. RouteTableError if malformed."""
        if not raw.strip():
            return cls()
        try:
            document = json.loads(raw)
        except ValueError as error:
            raise RouteTableError(f"is not valid JSON ({error})") from None
        if not isinstance(document, dict):
            raise RouteTableError('must be a JSON object like {"GET /path": ["scope"]}')
        return cls(tuple(_route(key, scopes) for key, scopes in document.items()))

    def __iter__(self) -> Iterator[Route]:
        return iter(self.routes)

    def __len__(self) -> int:
        return len(self.routes)

    @functools.cached_property
    def scopes(self) -> frozenset[str]:
        """Every scope some route requires (what a protected resource's metadata lists as supported)."""
        return frozenset(scope for route in self.routes for scope in route.scopes)

    def required(self, method: str, path: str) -> frozenset[str]:
        """The scopes a request needs: those of every route that covers it (see `Route.matches`)."""
        return frozenset(
            scope for route in self.routes if route.matches(method, path) for scope in route.scopes
        )

    def denied(self, scopes: frozenset[str]) -> tuple[Route, ...]:
        """The routes a token with these scopes may not call."""
        return tuple(route for route in self.routes if not route.scopes <= scopes)


def stage_resources(stage_prefix: str, denied: Iterable[Route]) -> tuple[str, tuple[str, ...]]:
    """A policy's resources in one API stage: everything to Allow, and the denied routes to Deny."""
    return _stage_resources(stage_prefix, tuple(denied))


def first_match(routes: tuple[Route, ...], method: str, path: str) -> Route | None:
    """The first of `routes` that covers the request, if any."""
    return _first_match(routes, method.upper(), path)


def _route(key: object, scopes: object) -> Route:
    match = _ROUTE_KEY.fullmatch(key) if isinstance(key, str) else None
    method = match["method"] if match else ""
    method = ANY_METHOD if method == "ANY" else method
    if match is None or method not in HTTP_METHODS | {ANY_METHOD}:
        raise RouteTableError(f'{key!r} is not "METHOD /path" (METHOD an HTTP method, ANY or *)')
    if not isinstance(scopes, list) or not all(
        isinstance(scope, str) and _SCOPE_TOKEN.fullmatch(scope) for scope in scopes
    ):
        raise RouteTableError(f"{key!r} must map to a list of scope names")
    return Route(method=method, path=match["path"], scopes=frozenset(scopes))


# A warm authorizer sees the same few routes, denied sets and stages again and again: each answer is
# computed once. The tables are small and fixed at cold start, so the caches stay small.


@functools.cache
def _resources_pattern(resource_paths: tuple[str, ...]) -> re.Pattern[str]:
    # One pattern for all of a route's resources. IAM's `*` matches any run of characters, slashes
    # included; everything else is literal.
    alternatives = (".*".join(map(re.escape, resource_path.split("*"))) for resource_path in resource_paths)
    return re.compile("|".join(f"(?:{alternative})" for alternative in alternatives), re.DOTALL)


@functools.lru_cache(maxsize=1_024)
def _first_match(routes: tuple[Route, ...], method: str, path: str) -> Route | None:
    return next((route for route in routes if route.matches(method, path)), None)


@functools.lru_cache(maxsize=256)
def _stage_resources(stage_prefix: str, denied: tuple[Route, ...]) -> tuple[str, tuple[str, ...]]:
    # A denied route of any method (`*`) has odd spellings that cover every other method's: those are
    # left out, to keep the policy short.
    every_method = any(route.method == ANY_METHOD for route in denied)
    patterns = {
        pattern
        for route in denied
        for pattern in (
            route.own_resource_paths if every_method and route.method != ANY_METHOD else route.resource_paths
        )
    }
    return f"{stage_prefix}/*/*", tuple(sorted(f"{stage_prefix}/{pattern}" for pattern in patterns))
