"""The authorizer's build for `sam build` (BuildMethod: makefile) refuses to ship bytecode Lambda ignores."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from samtranslator.yaml_helper import yaml_parse

AUTHORIZER = Path(__file__).resolve().parents[2] / "functions" / "authorizer"

MAKE = shutil.which("make")
pytestmark = pytest.mark.skipif(MAKE is None, reason="make is not installed")


def build(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    artifacts = tmp_path / "artifacts"
    settings = {"ARTIFACTS_DIR": str(artifacts), **variables}
    arguments = [f"{name}={value}" for name, value in settings.items()]
    return subprocess.run(  # noqa: S603 - our own Makefile, arguments from the test
        [
            str(MAKE),
            "--no-print-directory",
            "-s",
            "-C",
            str(AUTHORIZER),
            "build-AuthorizerFunction",
            *arguments,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_build_stops_clearly_without_the_runtimes_python(tmp_path: Path) -> None:
    result = build(tmp_path, RUNTIME_PYTHON=str(tmp_path / "python3.12"), PYTHON_VERSION="3.12")
    assert result.returncode != 0
    assert f"error: {tmp_path / 'python3.12'} not found" in result.stderr
    assert "pass RUNTIME_PYTHON=/path/to/python3.12" in result.stderr
    assert not (tmp_path / "artifacts").exists()


def test_the_build_refuses_a_python_of_another_version(tmp_path: Path) -> None:
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    other = "3.99"
    result = build(tmp_path, RUNTIME_PYTHON=sys.executable, PYTHON_VERSION=other)
    assert result.returncode != 0
    assert f"is Python {running}, the runtime is Python {other}" in result.stderr
    assert not (tmp_path / "artifacts").exists()


def test_the_build_targets_the_runtime_and_architecture_the_template_deploys() -> None:
    template = yaml_parse((AUTHORIZER.parents[1] / "template.yaml").read_text())
    function = template["Resources"]["AuthorizerFunction"]
    defaults = {**template["Globals"]["Function"], **function["Properties"]}
    makefile = (AUTHORIZER / "Makefile").read_text()
    assert function["Metadata"] == {"BuildMethod": "makefile"}
    assert "build-AuthorizerFunction:" in makefile
    assert f"PYTHON_VERSION ?= {defaults['Runtime'].removeprefix('python')}\n" in makefile
    assert defaults["Architectures"] == ["arm64"]
    assert "ARCH ?= aarch64\n" in makefile
