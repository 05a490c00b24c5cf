"""Runs a function's Makefile the way `sam build` runs it for `Metadata: BuildMethod: makefile`.

SAM copies the function's CodeUri to a scratch directory and runs `make --makefile <CodeUri>/Makefile
build-<LogicalId>` there with ARTIFACTS_DIR in the environment (aws-lambda-builders' custom_make workflow).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make")
RUNNING_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


@cache
def template() -> dict[str, Any]:
    parsed: dict[str, Any] = yaml_parse((ROOT / "template.yaml").read_text())
    return parsed


def functions() -> list[str]:
    resources = template()["Resources"]
    return [name for name, resource in resources.items() if resource["Type"] == "AWS::Serverless::Function"]


def code_uri(function: str) -> Path:
    folder: str = template()["Resources"][function]["Properties"]["CodeUri"]
    return ROOT / folder


def make_build(
    function: str, work: Path, *options: str, environment: dict[str, str] | None = None, **variables: str
) -> subprocess.CompletedProcess[str]:
    """`make build-<function>` from a scratch copy of its CodeUri, into work/artifacts."""
    assert MAKE is not None, "make is not installed"
    scratch = work / "scratch"
    shutil.copytree(code_uri(function), scratch, ignore=shutil.ignore_patterns("__pycache__"))
    arguments = [f"{name}={value}" for name, value in variables.items()]
    return subprocess.run(  # noqa: S603 - our own Makefile, arguments from the test
        [MAKE, "--no-print-directory", "-s", *options, "--makefile", str(code_uri(function) / "Makefile"),
         f"build-{function}", *arguments],
        cwd=scratch,
        env={**os.environ, **(environment or {}), "ARTIFACTS_DIR": str(work / "artifacts")},
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip


def offline_build(function: str, work: Path) -> Path:
    """The function's artifact without its requirements (no download), compiled by this interpreter.

    The requirements are the ones installed in this environment; everything else is what `sam build` ships.
    """
    no_requirements = work / "no-requirements.txt"
    no_requirements.write_text("")
    result = make_build(
        function,
        work,
        RUNTIME_PYTHON=sys.executable,
        PYTHON_VERSION=RUNNING_PYTHON,
        REQUIREMENTS=str(no_requirements),
    )
    assert result.returncode == 0, result.stderr
    return work / "artifacts"
