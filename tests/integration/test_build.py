"""Every function's build for `sam build` (BuildMethod: makefile): its own code, compiled into bytecode
Lambda uses, for the runtime and architecture the template deploys, or a clear refusal."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.function_build import (
    MAKE,
    ROOT,
    RUNNING_PYTHON,
    code_uri,
    functions,
    make_build,
    offline_build,
    template,
)

pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")

# What each function ships: its handler and the packages it imports from its CodeUri, and the shared
# modules (functions/shared) it imports, each at the top of the artifact; nothing else.
SHIPPED = {
    "AuthorizerFunction": (
        "authorizer_handler.py",
        "jwt_authorizer",
        "../shared/route_table.py",
        "../shared/authorizer_context.py",
    ),
    "PublicFunction": ("public_api.py", "messages_api", "../shared/route_table.py"),
    "ProtectedFunction": (
        "protected_api.py",
        "messages_api",
        "../shared/route_table.py",
        "../shared/authorizer_context.py",
    ),
}
# PEP 552: flags 0b01 is a hash-based .pyc whose source is never checked (--invalidation-mode unchecked-hash).
UNCHECKED_HASH = 0b01


def test_every_function_of_the_template_has_a_bytecode_build() -> None:
    """A copy the tools force: SAM's makefile builder runs `make build-<LogicalId>`, so the template and the
    Makefile each name every function."""
    assert sorted(SHIPPED) == sorted(functions())


@pytest.mark.parametrize("function", sorted(SHIPPED))
def test_the_build_stops_clearly_without_the_runtimes_python(function: str, tmp_path: Path) -> None:
    result = make_build(
        function, tmp_path, RUNTIME_PYTHON=str(tmp_path / "python3.12"), PYTHON_VERSION="3.12"
    )
    assert result.returncode != 0
    assert f"error: {tmp_path / 'python3.12'} not found" in result.stderr
    assert "pass RUNTIME_PYTHON=/path/to/python3.12" in result.stderr
    assert not (tmp_path / "artifacts").exists()


@pytest.mark.parametrize("function", sorted(SHIPPED))
def test_the_build_refuses_a_python_of_another_version(function: str, tmp_path: Path) -> None:
    other = "3.99"
    result = make_build(function, tmp_path, RUNTIME_PYTHON=sys.executable, PYTHON_VERSION=other)
    assert result.returncode != 0
    assert f"is Python {RUNNING_PYTHON}, the runtime is Python {other}" in result.stderr
    assert not (tmp_path / "artifacts").exists()


@pytest.mark.parametrize("function", sorted(SHIPPED))
def test_the_build_targets_the_runtime_and_architecture_the_template_deploys(function: str) -> None:
    properties = template()["Resources"][function]["Properties"]
    deployed = {**template()["Globals"]["Function"], **properties}
    makefile = (code_uri(function) / "Makefile").read_text()
    assert f"\nbuild-{function}: check-runtime-python\n" in makefile
    assert f"PYTHON_VERSION := {deployed['Runtime'].removeprefix('python')}\n" in makefile
    # The architecture is the template's Architecture parameter, arm64 unless set.
    assert deployed["Architectures"] == [{"Ref": "Architecture"}]
    assert template()["Parameters"]["Architecture"]["Default"] == "arm64"
    assert template()["Parameters"]["Architecture"]["AllowedValues"] == ["arm64", "x86_64"]


def _pip_install(function: str, work: Path, **environment: str) -> str:
    # -n prints the commands without running them: nothing is downloaded.
    result = make_build(function, work, "-n", environment=environment)
    assert result.returncode == 0, result.stderr
    return next(line for line in result.stdout.splitlines() if " -m pip install " in line)


@pytest.mark.parametrize("function", sorted(SHIPPED))
def test_the_build_installs_the_functions_requirements_as_arm64_wheels(function: str, tmp_path: Path) -> None:
    # CI images often export these with other meanings; the build must still target the template's.
    unrelated = {"ARCH": "amd64", "PYTHON_VERSION": "3.11.9", "REQUIREMENTS": "/dev/null"}
    install = _pip_install(function, tmp_path, **unrelated)
    assert f'--target "{tmp_path / "artifacts"}"' in install
    assert "--python-version 3.12 --only-binary=:all:" in install
    assert "--platform manylinux2014_aarch64 --platform manylinux_2_28_aarch64" in install
    assert install.endswith(f'-r "{code_uri(function) / "requirements.txt"}"')


@pytest.mark.parametrize("function", sorted(SHIPPED))
def test_the_build_follows_the_architecture_sam_build_is_given(function: str, tmp_path: Path) -> None:
    # sam build passes no architecture to make: `Architecture=x86_64` comes with LAMBDA_ARCHITECTURE=x86_64.
    install = _pip_install(function, tmp_path, LAMBDA_ARCHITECTURE="x86_64", ARCH="aarch64")
    platforms = [part for part in install.split() if part.startswith("manylinux")]
    assert platforms == ["manylinux2014_x86_64", "manylinux_2_28_x86_64", "manylinux_2_34_x86_64"]


@pytest.mark.parametrize("function", sorted(SHIPPED))
def test_the_build_refuses_an_architecture_lambda_does_not_have(function: str, tmp_path: Path) -> None:
    result = make_build(function, tmp_path, environment={"LAMBDA_ARCHITECTURE": "amd64"})
    assert result.returncode == 2
    assert "error: LAMBDA_ARCHITECTURE is 'amd64': arm64 or x86_64" in result.stderr
    assert not (tmp_path / "artifacts").exists()


def _sources(function: str) -> set[str]:
    found = set()
    for name in SHIPPED[function]:
        path = code_uri(function) / name
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        found |= {str(file.relative_to(path.parent)) for file in files}
    return found


def _pyc(source: str) -> str:
    path = Path(source)
    return str(path.parent / "__pycache__" / f"{path.stem}.{sys.implementation.cache_tag}.pyc")


@pytest.mark.parametrize("function", sorted(SHIPPED))
def test_each_function_ships_only_its_own_code_as_unchecked_hash_bytecode(
    function: str, tmp_path: Path
) -> None:
    artifacts = offline_build(function, tmp_path)

    shipped = {str(path.relative_to(artifacts)) for path in artifacts.rglob("*") if path.is_file()}
    sources = _sources(function)
    assert shipped == sources | {_pyc(source) for source in sources}
    for pyc in artifacts.rglob("*.pyc"):
        header = pyc.read_bytes()[:8]
        assert header[:4] == importlib.util.MAGIC_NUMBER, pyc
        assert int.from_bytes(header[4:8], "little") == UNCHECKED_HASH, pyc


@pytest.mark.parametrize("function", sorted(SHIPPED))
def test_no_function_ships_the_command_line_tools(function: str, tmp_path: Path) -> None:
    artifacts = offline_build(function, tmp_path)

    shipped = {path.relative_to(artifacts) for path in artifacts.rglob("*")}
    assert not any(
        part in ("tools", "explain.py") or part.startswith("explain.") for p in shipped for part in p.parts
    )


def test_the_api_functions_do_not_ship_each_others_handler() -> None:
    assert "protected_api.py" not in _sources("PublicFunction")
    assert "public_api.py" not in _sources("ProtectedFunction")


def test_an_unset_artifacts_directory_stops_the_build(tmp_path: Path) -> None:
    # sam build always sets ARTIFACTS_DIR; run by hand without it, nothing may land in the source folder.
    assert MAKE is not None
    environment = {name: value for name, value in os.environ.items() if name != "ARTIFACTS_DIR"}
    result = subprocess.run(  # noqa: S603 - our own Makefile
        [MAKE, "--no-print-directory", "-s", "-C", str(code_uri("PublicFunction")), "build-PublicFunction",
         f"RUNTIME_PYTHON={sys.executable}", f"PYTHON_VERSION={RUNNING_PYTHON}"],
        env=environment, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "ARTIFACTS_DIR is not set (sam build sets it)" in result.stderr


def inactive_pyenv_shim(folder: Path) -> Path:
    """What pyenv puts on PATH for a version that is installed but not selected: found, then fails."""
    shim = folder / "python3.12"
    shim.write_text(
        "#!/bin/sh\n"
        'echo "pyenv: python3.12: command not found" >&2\n'
        "echo \"The 'python3.12' command exists in these Python versions: 3.12.1\" >&2\n"
        "exit 127\n"
    )
    shim.chmod(0o755)
    return shim


@pytest.mark.parametrize("function", sorted(SHIPPED))
def test_the_build_stops_clearly_on_a_python_that_is_found_but_does_not_run(
    function: str, tmp_path: Path
) -> None:
    shim = inactive_pyenv_shim(tmp_path)

    result = make_build(function, tmp_path, RUNTIME_PYTHON=str(shim), PYTHON_VERSION="3.12")

    assert result.returncode != 0
    assert f"error: {shim} not found (or it does not run: an inactive pyenv shim?)" in result.stderr
    assert "pyenv:" not in result.stderr
    assert not (tmp_path / "artifacts").exists()


@pytest.mark.parametrize("runs", [True, False])
def test_make_build_runs_the_runtimes_python_before_anything_else(runs: bool, tmp_path: Path) -> None:
    runtime = sys.executable if runs else str(inactive_pyenv_shim(tmp_path))
    assert MAKE is not None

    result = subprocess.run(  # noqa: S603 - our own Makefile
        [MAKE, "--no-print-directory", "-s", "-C", str(ROOT), "check-runtime", f"RUNTIME_PYTHON={runtime}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip

    if runs:
        assert (result.returncode, result.stderr) == (0, "")
    else:
        assert result.returncode != 0
        assert f"{runtime} is not on PATH or does not run (an inactive pyenv shim?)" in result.stderr
        assert "make build RUNTIME_PYTHON=/path/to/python3.12" in result.stderr
        assert "pyenv:" not in result.stderr
