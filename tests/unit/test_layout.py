"""Who may import whom: the functions ship alone, and the benchmarks do not lean on the test suite."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def _imported_packages(folder: Path) -> dict[str, set[str]]:
    """Each Python file under `folder` → the top-level packages it imports (relative imports left out)."""
    found = {}
    for path in sorted(folder.rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name.partition(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.partition(".")[0])
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize("folder", ["bench", "devkit"])
def test_the_benchmarks_and_the_kit_they_share_with_the_tests_never_import_the_tests(folder: str) -> None:
    importing = {path for path, names in _imported_packages(ROOT / folder).items() if "tests" in names}
    assert importing == set()


def test_the_functions_import_nothing_of_the_repository_outside_their_artifacts() -> None:
    outside = {"tests", "devkit", "bench", "local", "tools"}
    importing = {
        path: sorted(names & outside)
        for path, names in _imported_packages(ROOT / "functions").items()
        if names & outside
    }
    assert importing == {}
