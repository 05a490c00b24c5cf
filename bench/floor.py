"""Cold start against the floor: whole fresh processes, ours and the floor taking turns.

The floor (`bench/floor_authorizer.py`) fetches the JWKS with urllib and verifies one RS256 token with
cryptography, nothing more. Ours is the artifact `sam build` deploys, importing its handler and answering
one TOKEN event. Each run is timed from outside, from the spawn to the reaping of the process, and its peak
resident memory is what each program reports of itself at its end (VmHWM). Runs come in pairs, in turns
(ours first in one pair, the floor first in the next); the ratio is taken pair by pair and the median over
pairs is the figure, so a moment when the machine is busy lands on both sides of a ratio.

- A: the provider on 127.0.0.1 answers at once;
- B: it answers after PROVIDER_LATENCY_SECONDS, as an identity provider across the internet does; and
  once more with the init-phase prefetch off, which shows what it buys;
- C: peak resident memory, from the runs of A.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent
FLOOR_PROGRAM = ROOT / "bench" / "floor_authorizer.py"
PROVIDER_LATENCY_SECONDS = 0.150

LOOPBACK_TARGET = 1.40
LATENCY_TARGET = 1.00
MEMORY_TARGET = 1.10


@dataclass
class Run:
    seconds: float
    peak_kib: int


@dataclass
class FloorRow:
    name: str
    unit: str  # "ms" or "MiB"
    floor: float  # median over runs
    ours: float
    ratio: float  # median over pairs of ours / floor
    low: float  # smallest and largest pair ratio: a wide spread says the machine was busy
    high: float
    target: float | None  # None: a comparison read in the docs, not a target

    @property
    def met(self) -> bool:
        return self.target is None or self.ratio <= self.target


def run_process(command: Sequence[str], environment: dict[str, str]) -> Run:
    """One fresh process, timed from spawn to reaping, that reports its own peak RSS.

    The peak comes from the program (VmHWM), not from wait4: the kernel's account of a child starts with
    the memory of the process that spawned it, here the benchmark's own."""
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        process = subprocess.Popen(
            command, env=environment, stdin=subprocess.DEVNULL, stdout=output, stderr=output, cwd="/"
        )
        process.wait()
        elapsed = time.perf_counter() - start
        output.seek(0)
        text = output.read().decode(errors="replace")
    reports = [line for line in text.splitlines() if line.startswith("BENCH ")]
    if process.returncode != 0 or not reports:
        raise RuntimeError(f"{command[:3]} failed ({process.returncode}):\n{text[-4000:]}")
    return Run(elapsed, json.loads(reports[-1].removeprefix("BENCH "))["peak_kib"])


def alternate(ours: Callable[[], Run], floor: Callable[[], Run], pairs: int) -> list[tuple[Run, Run]]:
    """`pairs` (ours, floor) pairs, each side first in every other pair, after one unmeasured pair."""
    ours(), floor()
    measured = []
    for index in range(pairs):
        if index % 2:
            floor_run = floor()
            ours_run = ours()
        else:
            ours_run = ours()
            floor_run = floor()
        measured.append((ours_run, floor_run))
    return measured


def _row(name: str, unit: str, values: list[tuple[float, float]], target: float | None) -> FloorRow:
    ratios = [ours / floor for ours, floor in values]
    return FloorRow(
        name=name,
        unit=unit,
        floor=statistics.median(floor for _, floor in values),
        ours=statistics.median(ours for ours, _ in values),
        ratio=statistics.median(ratios),
        low=min(ratios),
        high=max(ratios),
        target=target,
    )


def measure(
    scenario: Scenario,
    python: str,
    artifact: Path,
    ours_command: Sequence[str],
    token: str,
    environment: dict[str, str],
    pairs: int,
) -> list[FloorRow]:
    floor_command = [python, "-s", str(FLOOR_PROGRAM), str(artifact), token]

    def ours() -> Run:
        return run_process(ours_command, environment)

    def floor() -> Run:
        return run_process(floor_command, environment)

    def ours_without_prefetch() -> Run:
        return run_process(ours_command, environment | {"JWKS_PREFETCH": "false"})

    loopback = alternate(ours, floor, pairs)
    with scenario.provider_latency(PROVIDER_LATENCY_SECONDS):
        distant = alternate(ours, floor, pairs)
        # What the init-phase prefetch buys: the same row with the keys fetched by the first request.
        distant_unprefetched = alternate(ours_without_prefetch, floor, pairs)
    milliseconds = [
        [(ours_run.seconds * 1e3, floor_run.seconds * 1e3) for ours_run, floor_run in runs]
        for runs in (loopback, distant, distant_unprefetched)
    ]
    memory = [(ours_run.peak_kib / 1024, floor_run.peak_kib / 1024) for ours_run, floor_run in loopback]
    latency = f"{PROVIDER_LATENCY_SECONDS * 1e3:.0f} ms"
    return [
        _row("A. provider on loopback, no latency", "ms", milliseconds[0], LOOPBACK_TARGET),
        _row(f"B. provider answering after {latency}", "ms", milliseconds[1], LATENCY_TARGET),
        _row(f"B without the prefetch (JWKS_PREFETCH=false), after {latency}", "ms", milliseconds[2], None),
        _row("C. peak memory (RSS)", "MiB", memory, MEMORY_TARGET),
    ]


def compare_runtimes(
    scenario: Scenario,
    candidate: tuple[str, Sequence[str]],
    current: tuple[str, Sequence[str]],
    environment: dict[str, str],
    pairs: int,
) -> list[FloorRow]:
    """The same artifact built for two Python runtimes, in turns: whole process time and peak memory."""
    (candidate_name, candidate_command), (current_name, current_command) = candidate, current
    runs = alternate(
        lambda: run_process(candidate_command, environment),
        lambda: run_process(current_command, environment),
        pairs,
    )
    label = f"ours on {candidate_name} against {current_name}"
    return [
        _row(f"{label}: cold start, provider on loopback", "ms",
             [(a.seconds * 1e3, b.seconds * 1e3) for a, b in runs], None),
        _row(f"{label}: peak memory", "MiB", [(a.peak_kib / 1024, b.peak_kib / 1024) for a, b in runs], None),
    ]  # fmt: skip
