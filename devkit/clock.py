"""A clock the tests move by hand, instead of sleeping."""

from __future__ import annotations

import time


class FakeClock:
    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class OffsetWallClock:
    """The wall clock moved by `offset` seconds: a local provider on it mints tokens already expired."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset
