"""The docs name the tests that prove their claims: every test they name exists, under that name."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# `unit/test_x.py`, `tests/unit/test_x.py`, `unit/test_x.py::test_name`
_REFERENCE = re.compile(r"`(?:tests/)?((?:unit|integration|e2e)/test_\w+\.py)(?:::(\w+))?`")


def _references() -> list[tuple[str, str, str | None]]:
    return [
        (document.name, match[1], match[2])
        for document in DOCS
        for match in _REFERENCE.finditer(document.read_text())
    ]


def test_the_docs_name_tests() -> None:
    assert len(_references()) >= 20


@pytest.mark.parametrize(("document", "path", "name"), _references())
def test_each_test_the_docs_name_exists(document: str, path: str, name: str | None) -> None:
    source = ROOT / "tests" / path
    assert source.is_file(), f"{document} names {path}, which does not exist"
    if name is not None:
        assert re.search(rf"^def {name}\(", source.read_text(), re.MULTILINE), f"{document}: {path}::{name}"
