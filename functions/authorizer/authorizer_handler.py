"""Lambda entry point of the API Gateway TOKEN authorizer.

`build_authorizer` runs once per cold start: it reads and validates the configuration (a bad variable stops
the function at init with a message naming it), starts loading every issuer's keys in the background, and
only then imports PyJWT, Powertools and the rest of the pipeline, so the wait for the identity provider
overlaps that work. The key caches and the HTTP session live in the authorizer across warm invocations.

Under the SAM CLI (AWS_SAM_LOCAL=true) the handler applies the SAM CLI's edge (jwt_authorizer.sam_cli):
the answers `sam local start-api` can show, and plain http to the machine running the container.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from jwt_authorizer import snapstart
from jwt_authorizer.factory import build_authorizer, service_name
from jwt_authorizer.sam_cli import edge_for

if TYPE_CHECKING:
    from jwt_authorizer import AuthorizerService

SERVICE_NAME = service_name(os.environ)


class _Container:
    """This container's authorizer: built once by Lambda's init; again only by `reset`, for tests."""

    def __init__(self) -> None:
        self.start()

    def start(
        self, clock: Callable[[], float] = time.monotonic, now: Callable[[], float] = time.time
    ) -> None:
        self.authorizer = build_authorizer(
            os.environ, edge=edge_for(os.environ), prefetch=True, clock=clock, now=now
        )


_container = _Container()


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return _container.authorizer.handle(event)


def _before_snapshot() -> None:
    _container.authorizer.before_snapshot()


def _after_restore() -> None:
    _container.authorizer.after_restore()


snapstart.register(_before_snapshot, _after_restore)


def current_service() -> AuthorizerService:
    """The authorizer this container runs, with the caches its warm invocations share (tests, bench)."""
    return _container.authorizer


def reset(clock: Callable[[], float] = time.monotonic, now: Callable[[], float] = time.time) -> None:
    """Start again from the current environment with empty caches, as a new cold start would (for tests,
    which may pass clocks of their own: `clock` for the caches and timers, `now` for token times)."""
    _container.start(clock, now)
