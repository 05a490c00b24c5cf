"""Read what the authorizer writes while it runs, to prove no token material leaks (tests and `make load`)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class LogWatch:
    """Everything the authorizer writes while watched: its Powertools log lines and stdout (metrics)."""

    stream: io.StringIO = field(default_factory=io.StringIO)
    secrets: list[str] = field(default_factory=list)

    def remember(self, authorization: object) -> None:
        """Note token material that must never be written: the token, its signature, its signed part."""
        if not isinstance(authorization, str):
            return
        token = authorization.split(" ", 1)[-1]
        candidates = [authorization, token]
        parts = token.split(".")
        if len(parts) >= 3:
            candidates += [parts[-1], token.rsplit(".", 1)[0]]
        # Short strings (`a.b.c`, a bare scheme) occur in any text; real signatures are 43+ characters.
        self.secrets += [text for text in candidates if len(text) >= 16]

    def leaks(self, *other_output: str) -> list[str]:
        written = "\n".join((self.stream.getvalue(), *other_output))
        return sorted({secret[:40] for secret in self.secrets if secret in written})


@contextmanager
def watching_logs(logger_name: str) -> Iterator[LogWatch]:
    """Point the Powertools logger's stream handlers at a buffer (they keep the stdout of import time)."""
    watch = LogWatch()
    handlers = [h for h in logging.getLogger(logger_name).handlers if isinstance(h, logging.StreamHandler)]
    previous = [h.setStream(watch.stream) for h in handlers]
    try:
        yield watch
    finally:
        for handler, stream in zip(handlers, previous, strict=True):
            handler.setStream(stream)
