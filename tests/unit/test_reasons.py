"""The rejection reasons: one enumerated type (each member carries its hint), each raised somewhere, with
a documented meaning."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from jwt_authorizer import Reason

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "functions" / "authorizer" / "jwt_authorizer"


def test_every_reason_and_no_other_is_documented_with_its_meaning() -> None:
    page = (ROOT / "docs" / "rejection-reasons.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| (.+) \|$", page, re.MULTILINE)

    assert [name for name, _ in rows] == [reason.value for reason in Reason]
    assert all(meaning.strip() for _, meaning in rows)


def test_every_reason_is_one_the_authorizer_can_give() -> None:
    sources = "\n".join(path.read_text() for path in PACKAGE.glob("*.py") if path.name != "errors.py")
    raised = set(re.findall(r"\bReason\.([A-Z_]+)\b", sources))
    assert raised == {reason.name for reason in Reason}
