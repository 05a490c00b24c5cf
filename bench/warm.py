"""Warm latency per call, side by side in one process: floor, naive baseline, ours (new and repeated).

Each round times the variants in short interleaved slices over the same tokens and keeps each variant's
fastest slice; the result is the median over rounds of the time per call and of the ratio to the floor
of the same round. The machines are shared: this keeps a neighbour's burst from landing on one variant.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from bench.scenario import Scenario, event, signing_input_and_signature

ROOT = Path(__file__).resolve().parent.parent
#: Slices per round; a round keeps each variant's fastest slice, the result is the median over rounds.
SLICES = 30


@dataclass
class WarmResult:
    name: str
    micros: float  # median time per call
    ratio: float  # median ratio to the floor of the same round


@contextlib.contextmanager
def _quiet(*service_names: str) -> Iterator[None]:
    """Send stdout (metrics) and the Powertools loggers to /dev/null: we time the work, not a terminal."""
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        handlers = [
            handler
            for name in service_names
            for handler in logging.getLogger(name).handlers
            if isinstance(handler, logging.StreamHandler)
        ]
        previous = [handler.setStream(sink) for handler in handlers]
        try:
            yield
        finally:
            for handler, stream in zip(handlers, previous, strict=True):
                handler.setStream(stream)


def _load(module: str, path: Path, environment: dict[str, str]) -> ModuleType:
    os.environ.update(environment)
    sys.path.insert(0, str(path))
    return importlib.import_module(module)


def _best_per_call(
    variants: dict[str, Callable[[int], object]], setup: dict[str, Callable[[], object]], calls: int
) -> dict[str, float]:
    """µs per call of each variant: the fastest of many short slices, the variants taking turns.

    Short interleaved slices see the same machine; keeping each variant's fastest slice drops the ones a
    neighbour's burst cut into, which would otherwise land on whichever variant ran at that moment.
    """
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(SLICES):
        for name, function in variants.items():
            setup.get(name, _nothing)()
            start = time.perf_counter()
            for index in range(calls):
                function(index)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: seconds / calls * 1e6 for name, seconds in best.items()}


def _nothing() -> None:
    pass


def measure(scenario: Scenario, rounds: int = 9, calls: int = 100) -> list[WarmResult]:
    tokens = scenario.tokens(calls)
    events = [event(token) for token in tokens]
    public_key = scenario.key.private_key.public_key()
    signed = [signing_input_and_signature(token) for token in tokens]
    environment = scenario.environment()
    ours = _load("authorizer_handler", ROOT / "functions" / "authorizer", environment)
    # The baseline reads its environment at import, as a Lambda handler does: import it only now.
    from bench import naive_authorizer as naive

    def floor(index: int) -> None:
        signing_input, signature = signed[index % len(signed)]
        public_key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())

    # "New token": the verified-token cache is emptied before each slice, so every call verifies.
    def ours_new(index: int) -> None:
        ours.lambda_handler(events[index], None)

    repeated = events[0]

    def ours_repeated(index: int) -> None:
        ours.lambda_handler(repeated, None)

    def naive_quiet(index: int) -> None:
        naive.lambda_handler(events[index], None)

    def naive_logging(index: int) -> None:
        naive.LOG_EVERY_CALL = True
        try:
            naive.lambda_handler(events[index], None)
        finally:
            naive.LOG_EVERY_CALL = False

    variants: dict[str, Callable[[int], object]] = {
        "floor: RSA-2048 PKCS#1 v1.5 SHA-256 verify (cryptography)": floor,
        "naive: PyJWKClient + jwt.decode": naive_quiet,
        "naive + one Powertools INFO line per call": naive_logging,
        "ours, new token": ours_new,
        "ours, repeated token (verified-token cache)": ours_repeated,
    }
    # Keys stay cached (warm), but before every slice of "new token" no token has been seen.
    setup = {"ours, new token": ours.current_service().token_cache.clear}
    times: dict[str, list[float]] = {name: [] for name in variants}
    ratios: dict[str, list[float]] = {name: [] for name in variants}
    with _quiet("bench", "naive-authorizer"):
        ours_new(0)  # fetch the keys once: warm means keys cached
        naive_quiet(0)
        for _ in range(rounds):
            round_times = _best_per_call(variants, setup, calls)
            floor_time = round_times[next(iter(variants))]
            for name, micros in round_times.items():
                times[name].append(micros)
                ratios[name].append(micros / floor_time)
    return [
        WarmResult(name, statistics.median(times[name]), statistics.median(ratios[name])) for name in variants
    ]
