"""Parsing a JWKS: what each fetch costs, most of it the checks that refuse keys anyone can sign for.

The keys are parsed once per JWKS fetch, never per token; the first parse of a process also builds the
checks' tables (the product of the small primes, OpenSSL's self-check), and it is part of a cold start
when the keys are prefetched at init. Each run is a fresh process (this Python, the authorizer's sources),
timing three parses of a JWKS of 10 RSA-2048 keys: the first one, then 10 keys it has not seen, then
those 10 again (whose verdicts are remembered). A second set of processes does the same with the
degenerate-key checks switched off, to show their share. The target is read against the fastest process:
this machine's CPU without a neighbour's burst, as the warm rows keep their fastest slice.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from devkit.tokens import jwks_of, rsa_key

ROOT = Path(__file__).resolve().parent.parent
KEYS = 10
#: A JWKS of 10 RSA-2048 keys must parse within this, first parse of a process included.
TARGET_MS = 50.0

_CHILD = """
import json, sys, time
documents = json.load(open(sys.argv[1]))
from jwt_authorizer import keys
if sys.argv[2] == "off":
    keys.rsa_key_problem = lambda modulus, exponent: None
timings = []
for document in documents:
    start = time.perf_counter()
    keys.parse_jwks(document, frozenset({"RS256"}))
    timings.append((time.perf_counter() - start) * 1000)
print(json.dumps(timings))
"""

ROWS = (
    f"first JWKS of a process, {KEYS} RSA-2048 keys (tables built on the way)",
    f"a JWKS of {KEYS} RSA-2048 keys not seen before",
    f"the same {KEYS} keys again (verdicts remembered)",
)


@dataclass
class KeyParseResult:
    name: str
    fastest_ms: float  # the fastest process, degenerate-key checks on
    median_ms: float  # the median process, checks on
    unchecked_ms: float  # the fastest process with them off
    target_ms: float | None

    @property
    def met(self) -> bool:
        return self.target_ms is None or self.fastest_ms < self.target_ms


def _timings(document_file: str, checks: str) -> list[float]:
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, document_file, checks],
        capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "functions" / "authorizer"), str(ROOT / "functions" / "shared")]
        )},
    )  # fmt: skip
    timings: list[float] = json.loads(completed.stdout)
    return timings


def measure(runs: int = 9) -> list[KeyParseResult]:
    first = jwks_of(*(rsa_key(f"first-{index}") for index in range(KEYS)))
    unseen = jwks_of(*(rsa_key(f"unseen-{index}") for index in range(KEYS)))
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump([first, unseen, unseen], file)
    try:
        checked: list[list[float]] = []
        unchecked: list[list[float]] = []
        for _ in range(runs):  # in turns, so a busy moment of the machine lands on both
            checked.append(_timings(file.name, "on"))
            unchecked.append(_timings(file.name, "off"))
    finally:
        os.unlink(file.name)
    results = []
    for index, name in enumerate(ROWS):
        on = [run[index] for run in checked]
        off = [run[index] for run in unchecked]
        target = TARGET_MS if index < 2 else None
        results.append(KeyParseResult(name, min(on), statistics.median(on), min(off), target))
    return results
