"""The results table, the targets it is read against, and docs/performance.md."""

from __future__ import annotations

import datetime
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench import cold as cold_module
from bench import floor as floor_module
from bench.dpop import DpopResult
from bench.jwks_traffic import TrafficResult
from bench.key_parsing import KeyParseResult
from bench.warm import WarmResult

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "performance.md"

NEW_TOKEN_TARGET = 3.0  # x the floor
REPEATED_TOKEN_TARGET = 0.25  # x the floor
COLD_START_TARGET = 0.5  # x the same authorizer built by a plain `sam build`


@dataclass
class Results:
    warm: list[WarmResult] = field(default_factory=list)
    cold: cold_module.ColdResults | None = None
    jwks: list[TrafficResult] = field(default_factory=list)
    keys: list[KeyParseResult] = field(default_factory=list)
    dpop: list[DpopResult] = field(default_factory=list)
    checks: list[tuple[str, bool]] = field(default_factory=list)

    def targets_met(self) -> bool:
        return all(met for _, met in self.check_list())

    def check_list(self) -> list[tuple[str, bool]]:
        checks = []
        by_name = {result.name: result for result in self.warm}
        for name, result in by_name.items():
            if name.startswith("ours, new"):
                checks.append(
                    (f"warm new token ≤ {NEW_TOKEN_TARGET}x floor", result.ratio <= NEW_TOKEN_TARGET)
                )
            if name.startswith("ours, repeated"):
                checks.append(
                    (
                        f"warm repeated token ≤ {REPEATED_TOKEN_TARGET}x floor",
                        result.ratio <= REPEATED_TOKEN_TARGET,
                    )
                )
        if self.cold is not None:
            checks.extend(
                (f"{row.name} ≤ {row.target:.2f}x", row.met)
                for row in (*self.cold.floor, *self.cold.yardsticks)
                if row.target is not None
            )
            if self.cold.ratio is not None:
                met = self.cold.ratio <= COLD_START_TARGET
                checks.append((f"cold start ≤ {COLD_START_TARGET}x plain sam build", met))
        checks.extend(
            (result.name, result.met) for result in self.jwks if not result.name.startswith("naive")
        )
        checks.extend(
            (f"{row.name} < {row.target_ms:.0f} ms", row.met)
            for row in self.keys
            if row.target_ms is not None
        )
        checks.extend((f"{row.name} ≤ {row.target}x Bearer", row.met) for row in self.dpop if row.target)
        return checks


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            cpu = next(line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()} ({platform.machine()}); "
        f"load average {load} at the end of the run"
    )


def _tick(met: bool) -> str:
    return "met" if met else "**missed**"


def _pair_row(row: floor_module.FloorRow) -> str:
    target = "" if row.target is None else f"≤ {row.target:.2f}x ({_tick(row.met)})"
    return (
        f"| {row.name} | {row.floor:.0f} {row.unit} | {row.ours:.0f} {row.unit} | {row.ratio:.2f} "
        f"| {row.low:.2f} to {row.high:.2f} | {target} |"
    )


def table(results: Results) -> str:
    lines: list[str] = []
    if results.warm:
        lines += [
            f"### Warm: one authorizer invocation, keys cached (Python {platform.python_version()})",
            "",
            "| Variant | µs per call | x floor | Target |",
            "|---|---:|---:|---|",
        ]
        for row in results.warm:
            target = ""
            if row.name.startswith("ours, new"):
                target = f"≤ {NEW_TOKEN_TARGET}x ({_tick(row.ratio <= NEW_TOKEN_TARGET)})"
            elif row.name.startswith("ours, repeated"):
                target = f"≤ {REPEATED_TOKEN_TARGET}x ({_tick(row.ratio <= REPEATED_TOKEN_TARGET)})"
            lines.append(f"| {row.name} | {row.micros:.1f} | {row.ratio:.2f} | {target} |")
        lines.append("")
    if results.dpop:
        lines += [
            "### Warm: DPoP against Bearer on a new token, keys cached (a fresh ES256 proof every DPoP call)",
            "",
            "| Decision | µs per call | x Bearer | Target |",
            "|---|---:|---:|---|",
        ]
        for row_dpop in results.dpop:
            ratio = "" if row_dpop.ratio is None else f"{row_dpop.ratio:.2f}"
            target = "" if row_dpop.target is None else f"≤ {row_dpop.target}x ({_tick(row_dpop.met)})"
            lines.append(f"| {row_dpop.name} | {row_dpop.micros:.1f} | {ratio} | {target} |")
        lines.append("")
    if results.cold is not None and results.cold.floor:
        cold = results.cold
        lines += [
            f"### Cold start against the floor: whole fresh processes, in turns ({cold.python})",
            "",
            "| Row | floor | ours | x floor (median of rounds) | round ratios (min to max) | Target |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for floor_row in cold.floor:
            lines.append(_pair_row(floor_row))
        lines.append("")
    if results.cold is not None and results.cold.yardsticks:
        lines += [
            "### What the design's libraries cost a cold start, and what ours adds: the same rounds",
            "",
            "| Ratio | denominator | numerator | x (median of rounds) | round ratios (min to max) | Target |",
            "|---|---:|---:|---:|---:|---|",
        ]
        lines += [_pair_row(row) for row in results.cold.yardsticks]
        lines.append("")
    if results.cold is not None and results.cold.runtime:
        lines += [
            "### Runtime: the same artifact built for each Python runtime, whole fresh processes, in turns",
            "",
            "| Comparison | the template's runtime | the other | x (median of rounds) "
            "| round ratios (min to max) | |",
            "|---|---:|---:|---:|---:|---|",
        ]
        lines += [_pair_row(row) for row in results.cold.runtime]
        lines.append("")
    if results.cold is not None and results.cold.rows:
        cold = results.cold
        lines += [
            f"### Cold start: import + first invocation, fresh process ({cold.python}, this machine's arch)",
            "",
            "| Artifact | import ms | import + first call ms | x its plain build | modules loaded | Target |",
            "|---|---:|---:|---:|---:|---|",
        ]
        for entry in cold.rows:
            target = ""
            if entry.name == cold_module.OURS:
                target = f"≤ {COLD_START_TARGET}x ({_tick(entry.ratio <= COLD_START_TARGET)})"
            lines.append(
                f"| {entry.name} | {entry.import_ms:.0f} | {entry.total_ms:.0f} | {entry.ratio:.2f} "
                f"| {entry.modules} | {target} |"
            )
        lines.append("")
    if results.jwks:
        lines += [
            "### JWKS requests reaching a real JWKS server on 127.0.0.1",
            "",
            "| Scenario | requests | JWKS fetches | allowed | Target |",
            "|---|---:|---:|---:|---|",
        ]
        for traffic in results.jwks:
            lines.append(
                f"| {traffic.name} | {traffic.requests} | {traffic.fetches} | {traffic.allowed_fetches} "
                f"| {'' if traffic.name.startswith('naive') else _tick(traffic.met)} |"
            )
        lines.append("")
    if results.keys:
        lines += [
            "### Parsing a JWKS, once per fetch: fresh processes",
            "",
            "| JWKS | fastest ms | median ms | fastest without the degenerate-key checks | Target |",
            "|---|---:|---:|---:|---|",
        ]
        for parse in results.keys:
            target = "" if parse.target_ms is None else f"< {parse.target_ms:.0f} ms ({_tick(parse.met)})"
            lines.append(
                f"| {parse.name} | {parse.fastest_ms:.1f} | {parse.median_ms:.1f} | {parse.unchecked_ms:.1f} "
                f"| {target} |"
            )
        lines.append("")
    return "\n".join(lines)


def write_docs(results: Results) -> Path:
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = (ROOT / "bench" / "performance.md.in").read_text()
    DOCS.parent.mkdir(exist_ok=True)
    DOCS.write_text(
        body.replace("{{date}}", today)
        .replace("{{machine}}", _machine())
        .replace("{{python}}", sys.version.split()[0])
        .replace("{{table}}", table(results).rstrip())
    )
    return DOCS
