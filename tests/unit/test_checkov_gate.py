"""The checkov gate of `make checkov`: findings against the baseline, both ways."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tools.checkov_gate import ROOT, Accepted, Finding, judge, load_baseline, read_report

pytestmark = pytest.mark.unit

TOTALS = {"passed": 10, "failed": 2, "skipped": 0}


def report(*failed: tuple[str, str, str], files: tuple[str, ...] = ("/template.yaml",)) -> dict[str, Any]:
    passed = [{"check_id": "CKV_AWS_1", "resource": "AWS::X::Y.Ok", "file_path": path} for path in files]
    return {
        "check_type": "cloudformation",
        "summary": {"passed": len(passed), "failed": len(failed), "skipped": 0, "parsing_errors": 0},
        "results": {
            "passed_checks": passed,
            "failed_checks": [
                {"check_id": check_id, "resource": resource, "file_path": path}
                for check_id, resource, path in failed
            ],
            "skipped_checks": [],
        },
    }


def test_findings_are_read_by_check_and_logical_id() -> None:
    findings, totals = read_report(
        report(("CKV_AWS_117", "AWS::Lambda::Function.AuthorizerFunction", "/template.yaml")), 1
    )

    assert findings == [Finding("CKV_AWS_117", "AuthorizerFunction", "/template.yaml")]
    assert totals == {"passed": 1, "failed": 1, "skipped": 0}


def test_a_report_that_did_not_read_every_template_is_refused() -> None:
    with pytest.raises(ValueError, match="read 1 templates, not 3"):
        read_report(report(), 3)


def test_every_finding_must_be_in_the_baseline() -> None:
    findings = [Finding("CKV_AWS_117", "AuthorizerFunction", "a"), Finding("CKV_AWS_26", "AlarmTopic", "a")]
    baseline = [Accepted("CKV_AWS_117", ("AuthorizerFunction",), "no VPC resources")]

    verdict = judge(findings, baseline, TOTALS)

    assert verdict.unjustified == [Finding("CKV_AWS_26", "AlarmTopic", "a")]
    assert verdict.stale == []


def test_a_baseline_entry_without_its_finding_is_stale() -> None:
    findings = [Finding("CKV_AWS_117", "AuthorizerFunction", "a")]
    baseline = [Accepted("CKV_AWS_117", ("AuthorizerFunction", "PublicFunction"), "no VPC resources")]

    verdict = judge(findings, baseline, TOTALS)

    assert (verdict.unjustified, verdict.stale) == ([], [("CKV_AWS_117", "PublicFunction")])


def test_patterns_cover_generated_logical_ids() -> None:
    findings = [Finding("CKV_AWS_X", "MessagesApiDeployment0a1b2c3d4e", "a")]

    verdict = judge(findings, [Accepted("CKV_AWS_X", ("MessagesApiDeployment*",), "generated")], TOTALS)

    assert (verdict.unjustified, verdict.stale) == ([], [])


def test_a_baseline_entry_without_a_reason_is_refused(tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text("- check: CKV_AWS_117\n  resources: [AuthorizerFunction]\n  why: ' '\n")

    with pytest.raises(ValueError, match="needs a check, its resources and why"):
        load_baseline(baseline)


def test_the_projects_baseline_justifies_each_check_once() -> None:
    baseline = load_baseline(ROOT / ".ci" / "checkov-baseline.yaml")

    checks = [entry.check for entry in baseline]
    assert len(checks) == len(set(checks))
    assert all(len(entry.why.split()) >= 20 for entry in baseline)
