"""What the pipeline decides on, and what it decides, whatever event shape the call came in.

An adapter (events.py) reads an event into an `AccessRequest` and writes a `Decision` back in that event's
shape; between the two, nothing knows which shape it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from route_table import Route

from .method_arn import MethodArn

NO_HEADERS: Mapping[str, str] = MappingProxyType({})


class AccessRequest(NamedTuple):
    """One call to authorize: the credential, and the method, path and stage it is presented to."""

    #: The Authorization value as the event carried it, unread (the token parser or cache reads it).
    credential: object
    #: The call's method, path and stage (`method_arn.stage_prefix` is the stage's ARN).
    method_arn: MethodArn
    #: Headers the checks need beyond the credential, by lower-case name (a TOKEN event carries none);
    #: a header sent more than once has its values joined with commas (RFC 9110 section 5.3).
    headers: Mapping[str, str] = NO_HEADERS
    #: The URL the client called (a REQUEST event's; DPoP's `htu`), None for a TOKEN event.
    url: str | None = None
    #: The SHA-256 thumbprint of the client certificate under mutual TLS (RFC 8705), else None.
    certificate_thumbprint: str | None = None

    @property
    def method(self) -> str:
        return self.method_arn.method

    @property
    def path(self) -> str:
        return self.method_arn.request_path

    @property
    def stage_arn(self) -> str:
        return self.method_arn.stage_prefix


class Decision(NamedTuple):
    """What the pipeline decided for a verified token on one call."""

    principal_id: str
    #: One policy for the whole stage: an Allow for everything, a Deny for each route the token lacks.
    policy: dict[str, Any]
    #: The context for the functions behind the authorizer (a copy: the cached one is never handed out).
    context: dict[str, Any]
    #: The route of this very call that the token lacks a scope for, or None when the call is allowed.
    denied_route: Route | None
