"""Who may import whom: the functions ship alone, the benchmarks and tools do not lean on the test suite,
the pipeline knows nothing of the SAM CLI, and code outside jwt_authorizer uses its public names."""

from __future__ import annotations

import ast
import re
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


@pytest.mark.parametrize("folder", ["bench", "devkit", "tools"])
def test_the_benchmarks_the_tools_and_their_kit_never_import_the_tests(folder: str) -> None:
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


PACKAGE = ROOT / "functions" / "authorizer" / "jwt_authorizer"
#: The one module that knows the SAM CLI: the edge the handler applies under AWS_SAM_LOCAL=true.
SAM_CLI_EDGE = "sam_cli"
SAM_CLI_NAMES = re.compile(r"sam_cli|sam_local|sam local|SAM CLI|AWS_SAM_LOCAL|samcli", re.I)


def _package_imports() -> dict[str, set[str]]:
    """Each module of the package → the modules of the package it imports."""
    found = {}
    for path in sorted(PACKAGE.glob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    names.add(node.module.partition(".")[0])
                else:
                    names |= {alias.name for alias in node.names}
            elif (
                isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("jwt_authorizer.")
            ):
                names.add(node.module.split(".")[1])
        found[path.stem] = names
    return found


def test_nothing_below_the_handler_knows_the_sam_cli() -> None:
    graph = _package_imports()
    reaching = set()
    for module in graph.keys() - {SAM_CLI_EDGE}:
        seen: set[str] = set()
        pending = [module]
        while pending:
            for imported in graph.get(pending.pop(), set()) - seen:
                seen.add(imported)
                pending.append(imported)
        if SAM_CLI_EDGE in seen:
            reaching.add(module)
    assert reaching == set()
    naming = {
        path.name: sorted(set(SAM_CLI_NAMES.findall(path.read_text())))
        for path in PACKAGE.glob("*.py")
        if path.stem != SAM_CLI_EDGE and SAM_CLI_NAMES.search(path.read_text())
    }
    assert naming == {}


#: Tests that are one module's own, by a name other than test_<module>: they may reach into it.
OWN_TESTS = {
    "tests/integration/test_sam_cli_answers.py": "sam_cli",
    "tests/integration/test_jwks_http.py": "jwks",
}


def _own_module(path: str, modules: set[str]) -> str | None:
    if path in OWN_TESTS:
        return OWN_TESTS[path]
    match = re.fullmatch(r"tests/unit/test_(\w+)\.py", path)
    if match is None:
        return None
    return next((m for m in modules if match[1] == m or match[1].startswith(f"{m}_")), None)


def test_code_outside_the_package_uses_only_its_public_names() -> None:
    import jwt_authorizer

    modules = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__"}
    reaching = {}
    for folder in ("tools", "bench", "local", "devkit", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = str(path.relative_to(ROOT))
            own = _own_module(relative, modules)
            for node in ast.walk(ast.parse(path.read_text(), relative)):
                if own is not None or not isinstance(node, ast.ImportFrom) or node.level or not node.module:
                    continue
                if node.module == "jwt_authorizer":
                    hidden = [alias.name for alias in node.names if alias.name not in jwt_authorizer.__all__]
                elif node.module.startswith("jwt_authorizer."):
                    hidden = [node.module]
                else:
                    continue
                if hidden:
                    reaching[relative] = hidden
    assert reaching == {}
