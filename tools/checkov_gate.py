"""`make checkov`: checkov on template.yaml and on what CloudFormation would deploy from it, every finding
held against .ci/checkov-baseline.yaml.

    python -m tools.checkov_gate prepare DIR          # the deployed templates checkov reads
    python -m tools.checkov_gate check REPORT BASELINE

The deployed templates are the translation with the defaults (the self-contained mode, nothing opt-in on)
and with every option on, so each resource the template can create is read at least once. `check` fails on
a finding the baseline does not list, and on a baseline entry that matches no finding any more: each
accepted finding stays listed, with why, and only while it is real.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import logging
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

from tools.stack_options import instantiate, translate

ROOT = Path(__file__).resolve().parents[1]
DEPLOYED = {
    "defaults": {},
    "everything-on": {
        "AccessLogs": "true",
        "AlarmEmail": "ops@example.com",
        "AuthorizerReservedConcurrency": "50",
    },
}


@dataclass(frozen=True)
class Finding:
    check: str
    resource: str  # the logical id
    file: str


@dataclass(frozen=True)
class Accepted:
    check: str
    resources: tuple[str, ...]  # logical ids, or fnmatch patterns for generated ones
    why: str

    def covers(self, finding: Finding) -> bool:
        return finding.check == self.check and any(
            fnmatch.fnmatchcase(finding.resource, pattern) for pattern in self.resources
        )


@dataclass(frozen=True)
class Verdict:
    unjustified: list[Finding]
    stale: list[tuple[str, str]]  # (check, resource pattern) that no finding matches
    passed: int
    failed: int
    skipped: int


def prepare(directory: Path) -> list[Path]:
    source: dict[str, Any] = yaml_parse((ROOT / "template.yaml").read_text())
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, parameters in DEPLOYED.items():
        path = directory / f"{name}.json"
        path.write_text(json.dumps(instantiate(translate(source, parameters), parameters), indent=1))
        written.append(path)
    return written


def load_baseline(path: Path) -> list[Accepted]:
    entries: list[dict[str, Any]] = yaml_parse(path.read_text()) or []
    accepted = []
    for entry in entries:
        if not (entry.get("check") and entry.get("resources") and str(entry.get("why", "")).strip()):
            raise ValueError(f"{path}: every entry needs a check, its resources and why: {entry}")
        accepted.append(Accepted(entry["check"], tuple(entry["resources"]), entry["why"]))
    return accepted


def read_report(report: Any, expected_files: int) -> tuple[list[Finding], dict[str, int]]:
    """Findings and summary of checkov's JSON report (one object per framework, or a list of them)."""
    runs = report if isinstance(report, list) else [report]
    findings, totals = [], {"passed": 0, "failed": 0, "skipped": 0}
    files = set()
    for run in runs:
        if run.get("check_type") != "cloudformation":
            raise ValueError(f"unexpected checkov run: {run.get('check_type')}")
        results = run["results"]
        for key in totals:
            totals[key] += run["summary"][key]
        if run["summary"]["parsing_errors"]:
            raise ValueError(f"checkov could not parse {results.get('parsing_errors')}")
        for outcome in ("passed_checks", "failed_checks", "skipped_checks"):
            files |= {check["file_path"] for check in results[outcome]}
        findings += [
            Finding(check["check_id"], check["resource"].rsplit(".", 1)[-1], check["file_path"])
            for check in results["failed_checks"]
        ]
    if len(files) != expected_files:
        raise ValueError(f"checkov read {len(files)} templates, not {expected_files}: {sorted(files)}")
    return findings, totals


def judge(findings: Iterable[Finding], baseline: list[Accepted], totals: dict[str, int]) -> Verdict:
    findings = list(findings)
    unjustified = [f for f in findings if not any(entry.covers(f) for entry in baseline)]
    stale = [
        (entry.check, pattern)
        for entry in baseline
        for pattern in entry.resources
        if not any(f.check == entry.check and fnmatch.fnmatchcase(f.resource, pattern) for f in findings)
    ]
    return Verdict(unjustified, stale, totals["passed"], totals["failed"], totals["skipped"])


def main(argv: list[str]) -> int:
    # The translator warns about feature toggles it looks up; they mean nothing here.
    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(prog="checkov_gate")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("prepare").add_argument("directory", type=Path)
    check = commands.add_parser("check")
    check.add_argument("report", type=Path)
    check.add_argument("baseline", type=Path)
    arguments = parser.parse_args(argv)
    if arguments.command == "prepare":
        for path in prepare(arguments.directory):
            print(path)
        return 0
    baseline = load_baseline(arguments.baseline)
    findings, totals = read_report(json.loads(arguments.report.read_text()), 1 + len(DEPLOYED))
    verdict = judge(findings, baseline, totals)
    print(
        f"checkov on template.yaml and {len(DEPLOYED)} deployed translations: {verdict.passed} checks"
        f" passed, {verdict.failed} findings ({verdict.failed - len(verdict.unjustified)} accepted by"
        f" {len(baseline)} baseline entries), {verdict.skipped} skipped"
    )
    for finding in verdict.unjustified:
        print(f"NOT IN THE BASELINE: {finding.check} on {finding.resource} ({finding.file})")
    for check_id, pattern in verdict.stale:
        print(f"STALE BASELINE ENTRY (no such finding any more, remove it): {check_id} on {pattern}")
    return 1 if verdict.unjustified or verdict.stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
