"""Cold start against the floor: whole fresh processes, ours and the floor taking turns.

The floor (`bench/floor_authorizer.py`) fetches the JWKS with urllib and verifies one RS256 token with
cryptography, nothing more. Ours is the artifact `sam build` deploys, importing its handler and answering
one TOKEN event. Each run is timed from outside, from the spawn of the process to its answer (the report
line it writes right after answering, as Lambda times a cold start to the response: it never runs the
interpreter's teardown), and to its reaping; its peak resident memory is what each program reports of
itself (VmHWM). Runs come in rounds, every program once per round, in turns (forwards in one round,
backwards in the next); each ratio is taken round by round and the median over rounds is the figure, so a
moment when the machine is busy lands on both sides of a ratio.

- A: the provider on 127.0.0.1 answers at once (and A timed to the reaping, teardown included);
- B: it answers after PROVIDER_LATENCY_SECONDS, as an identity provider across the internet does; and
  once more with the init-phase prefetch off, which shows what it buys;
- C: peak resident memory, from the runs of A.

The same rounds time two yardsticks of `bench/design_floor_authorizer.py`, the floor's work done with the
authorizer's own libraries: fetched with `requests`, and fetched with `requests`, verified by PyJWT and
logged by Powertools (the design floor). Their ratios to the floor are the least the authorizer's can be;
ours against the design floor is what its own code adds, and that is what the targets hold.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent
FLOOR_PROGRAM = ROOT / "bench" / "floor_authorizer.py"
DESIGN_FLOOR_PROGRAM = ROOT / "bench" / "design_floor_authorizer.py"
PROVIDER_LATENCY_SECONDS = 0.150

#: Ours against the design floor: what our own code may add to what the design's libraries cost. The floor
#: itself is the limit no Python authorizer passes, read with no target (docs/performance.md says why).
LOOPBACK_TARGET = 1.10
LATENCY_TARGET = 0.80
MEMORY_TARGET = 1.00

FLOOR = "the floor"
OURS = "ours"
OURS_UNPREFETCHED = "ours without the prefetch"
REQUESTS_FLOOR = "the floor fetching with requests"
DESIGN_FLOOR = "the design floor (requests, PyJWT, a Powertools log line)"
OURS_AGAINST_DESIGN_FLOOR = "ours against the design floor"


@dataclass
class Run:
    seconds: float  # spawn to the answer: the cold start as Lambda counts it
    exit_seconds: float  # spawn to reaping: the interpreter's teardown too, which Lambda never runs
    peak_kib: int


@dataclass
class FloorRow:
    name: str
    unit: str  # "ms" or "MiB"
    floor: float  # median over runs of the denominator (the floor, unless the name says otherwise)
    ours: float  # median over runs of the numerator
    ratio: float  # median over rounds of ours / floor
    low: float  # smallest and largest round ratio: a wide spread says the machine was busy
    high: float
    target: float | None  # None: a comparison read in the docs, not a target

    @property
    def met(self) -> bool:
        return self.target is None or self.ratio <= self.target


@dataclass
class FloorResults:
    rows: list[FloorRow]  # A, B, C against the floor: the limit, no targets
    yardsticks: list[FloorRow]  # the design's own floors against the floor, and ours against them (targets)


def run_process(command: Sequence[str], environment: dict[str, str]) -> Run:
    """One fresh process, timed from spawn to its report line and to reaping; it reports its peak RSS.

    The peak comes from the program (VmHWM), not from wait4: the kernel's account of a child starts with
    the memory of the process that spawned it, here the benchmark's own."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, cwd="/",
    )  # fmt: skip
    assert process.stdout is not None
    answered, output = None, []
    for line in process.stdout:
        if answered is None and line.startswith(b"BENCH "):
            answered = time.perf_counter()
        output.append(line)
    process.wait()
    ended = time.perf_counter()
    text = b"".join(output).decode(errors="replace")
    reports = [line for line in text.splitlines() if line.startswith("BENCH ")]
    if process.returncode != 0 or answered is None or not reports:
        raise RuntimeError(f"{command[:3]} failed ({process.returncode}):\n{text[-4000:]}")
    peak_kib = json.loads(reports[-1].removeprefix("BENCH "))["peak_kib"]
    return Run(answered - start, ended - start, peak_kib)


def rounds(programs: Mapping[str, Callable[[], Run]], count: int) -> dict[str, list[Run]]:
    """`count` rounds of every program once, forwards and backwards in turns, after one unmeasured round."""
    for run in programs.values():
        run()
    measured: dict[str, list[Run]] = {name: [] for name in programs}
    order = list(programs)
    for index in range(count):
        for name in order if index % 2 == 0 else reversed(order):
            measured[name].append(programs[name]())
    return measured


def _row(
    name: str, unit: str, values: Sequence[tuple[float, float]], target: float | None = None
) -> FloorRow:
    """A row from (numerator, denominator) pairs, one per round."""
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


def _milliseconds(numerator: list[Run], denominator: list[Run]) -> list[tuple[float, float]]:
    return [(a.seconds * 1e3, b.seconds * 1e3) for a, b in zip(numerator, denominator, strict=True)]


def _mebibytes(numerator: list[Run], denominator: list[Run]) -> list[tuple[float, float]]:
    return [(a.peak_kib / 1024, b.peak_kib / 1024) for a, b in zip(numerator, denominator, strict=True)]


def measure(
    scenario: Scenario,
    python: str,
    artifact: Path,
    ours_command: Sequence[str],
    token: str,
    environment: dict[str, str],
    pairs: int,
) -> FloorResults:
    def program(command: Sequence[str], extra: Mapping[str, str] | None = None) -> Callable[[], Run]:
        return lambda: run_process(command, environment | dict(extra or {}))

    def design_floor(variant: str) -> Callable[[], Run]:
        return program([python, "-s", str(DESIGN_FLOOR_PROGRAM), str(artifact), token, variant])

    programs = {
        FLOOR: program([python, "-s", str(FLOOR_PROGRAM), str(artifact), token]),
        OURS: program(ours_command),
        REQUESTS_FLOOR: design_floor("requests"),
        DESIGN_FLOOR: design_floor("design"),
    }
    loopback = rounds(programs, pairs)
    with scenario.provider_latency(PROVIDER_LATENCY_SECONDS):
        # What the init-phase prefetch buys: ours again with the keys fetched by the first request.
        unprefetched = program(ours_command, {"JWKS_PREFETCH": "false"})
        distant = rounds(programs | {OURS_UNPREFETCHED: unprefetched}, pairs)
    latency = f"{PROVIDER_LATENCY_SECONDS * 1e3:.0f} ms"
    ours_a, floor_a, ours_b, floor_b = loopback[OURS], loopback[FLOOR], distant[OURS], distant[FLOOR]
    to_exit = [(a.exit_seconds * 1e3, b.exit_seconds * 1e3) for a, b in zip(ours_a, floor_a, strict=True)]
    rows = [
        _row("A. provider on loopback, no latency", "ms", _milliseconds(ours_a, floor_a)),
        _row("A timed to the process's exit (teardown included)", "ms", to_exit),
        _row(f"B. provider answering after {latency}", "ms", _milliseconds(ours_b, floor_b)),
        _row(f"B without the prefetch (JWKS_PREFETCH=false), after {latency}", "ms",
             _milliseconds(distant[OURS_UNPREFETCHED], floor_b)),
        _row("C. peak memory (RSS)", "MiB", _mebibytes(ours_a, floor_a)),
    ]  # fmt: skip
    yardsticks = []
    for name, numerator, denominator, targets in (
        (REQUESTS_FLOOR, REQUESTS_FLOOR, FLOOR, (None, None, None)),
        (DESIGN_FLOOR, DESIGN_FLOOR, FLOOR, (None, None, None)),
        (OURS_AGAINST_DESIGN_FLOOR, OURS, DESIGN_FLOOR, (LOOPBACK_TARGET, LATENCY_TARGET, MEMORY_TARGET)),
    ):
        near, far = loopback[numerator], distant[numerator]
        near_floor, far_floor = loopback[denominator], distant[denominator]
        yardsticks += [
            _row(f"{name}: A", "ms", _milliseconds(near, near_floor), targets[0]),
            _row(f"{name}: B", "ms", _milliseconds(far, far_floor), targets[1]),
            _row(f"{name}: C", "MiB", _mebibytes(near, near_floor), targets[2]),
        ]
    return FloorResults(rows, yardsticks)


def compare_runtimes(
    scenario: Scenario,
    candidate: tuple[str, Sequence[str]],
    current: tuple[str, Sequence[str]],
    environment: dict[str, str],
    pairs: int,
) -> list[FloorRow]:
    """The same artifact built for two Python runtimes, in turns: time to the answer and peak memory."""
    (candidate_name, candidate_command), (current_name, current_command) = candidate, current
    runs = rounds(
        {
            candidate_name: lambda: run_process(candidate_command, environment),
            current_name: lambda: run_process(current_command, environment),
        },
        pairs,
    )
    label = f"ours on {candidate_name} against {current_name}"
    return [
        _row(f"{label}: cold start, provider on loopback", "ms",
             _milliseconds(runs[candidate_name], runs[current_name])),
        _row(f"{label}: peak memory", "MiB", _mebibytes(runs[candidate_name], runs[current_name])),
    ]  # fmt: skip
