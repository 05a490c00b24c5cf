"""Cold start of deployable artifacts, run the way Lambda runs them.

Artifacts are built for this machine's architecture and the runtime's Python:
- "plain sam build": what SAM's default Python builder ships, requirements and sources, no bytecode;
- "ours" and "BuildMethod makefile": `make build-<Function>`, exactly what `sam build` runs for
  `BuildMethod: makefile`;
- the naive baseline, built the plain way.
Each run is a fresh process with PYTHONDONTWRITEBYTECODE set (Lambda's code directory is read-only, so
nothing compiled at a cold start survives it); it times the import of the handler module and the first
invocation, which fetches the keys from the loopback JWKS server. Runs alternate between artifacts.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import floor as floor_module
from bench.scenario import Scenario, event

ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = ROOT / ".bench"
AUTHORIZER = ROOT / "functions" / "authorizer"
API = ROOT / "functions" / "api"
SHARED = ROOT / "functions" / "shared"
# What the functions' builds copy from functions/shared (a plain sam build would need them too).
SHARED_MODULES = ["route_table.py", "authorizer_context.py"]


def _template_runtime() -> str:
    """The functions' Runtime in template.yaml, without "python" (e.g. "3.12")."""
    found = re.search(
        r"^\s*Runtime:\s*python(3\.\d+)\s*$", (ROOT / "template.yaml").read_text(), re.MULTILINE
    )
    if found is None:
        raise SystemExit("template.yaml names no python3.x Runtime")
    return found.group(1)


RUNTIME_VERSION = _template_runtime()
#: The other Python runtime Lambda offers with SnapStart, timed against the template's (docs say which won).
OTHER_RUNTIME_VERSION = {"3.12": "3.13", "3.13": "3.12"}.get(RUNTIME_VERSION)

_CHILD = """
import importlib, json, sys, time
class Context:  # what Powertools reads from Lambda's context object
    function_name = "bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:bench"
    aws_request_id = "c0ffee00-0000-4000-8000-000000000000"
start = time.perf_counter()
sys.path.insert(0, sys.argv[1])
module = importlib.import_module(sys.argv[2])
imported = time.perf_counter()
module.lambda_handler(json.loads(sys.argv[3]), Context())
done = time.perf_counter()
timings = {"import": imported - start, "total": done - start, "modules": len(sys.modules)}
with open("/proc/self/status") as status:  # the peak of this program alone, whoever started it
    timings["peak_kib"] = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print("\\nBENCH " + json.dumps(timings), flush=True)  # the answer: the cold start is timed to here
"""


@dataclass
class Artifact:
    name: str
    path: Path
    module: str
    event: dict[str, Any]
    baseline: str  # the name of the artifact its ratio is taken against
    #: Variables of its own, and what the runtime puts on sys.path after the code (PYTHONPATH).
    environment: dict[str, str] = field(default_factory=dict)


@dataclass
class ColdResult:
    name: str
    import_ms: float
    total_ms: float
    ratio: float  # total against its baseline: the plain `sam build` of the same function
    modules: int  # in sys.modules after the first invocation: the weight of the import graph


@dataclass
class ColdResults:
    python: str
    rows: list[ColdResult]
    floor: list[floor_module.FloorRow]
    #: The design's own floors against the floor, and ours against the design floor (the targets).
    yardsticks: list[floor_module.FloorRow]
    #: Ours on the other Python runtime against ours on the template's, when that Python is here.
    runtime: list[floor_module.FloorRow]

    @property
    def ratio(self) -> float | None:
        """Ours against its plain build (None when only the floor rows were run)."""
        return next((row.ratio for row in self.rows if row.name == OURS), None)


def runtime_python(version: str = RUNTIME_VERSION) -> str:
    """The runtime's Python: $RUNTIME_PYTHON, python3.x on PATH, or pyenv's; fail clearly without it."""
    found = find_python(version, os.environ.get("RUNTIME_PYTHON") if version == RUNTIME_VERSION else None)
    if found is None:
        name = f"python{version}"
        raise SystemExit(
            f"{name} (the functions' runtime) is needed to build and time the artifacts; "
            f"install it, or set RUNTIME_PYTHON=/path/to/{name}"
        )
    return found


def find_python(version: str, preferred: str | None = None) -> str | None:
    """An interpreter of this Python version: `preferred`, python3.x on PATH, or pyenv's."""
    name = f"python{version}"
    candidates = [preferred, shutil.which(name)]
    candidates += [
        str(p / name) for p in sorted((Path.home() / ".pyenv" / "versions").glob(f"{version}.*/bin"))
    ]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def _arch() -> str:
    machine = platform.machine().lower()
    return {"arm64": "aarch64", "amd64": "x86_64"}.get(machine, machine)


def _pip_install(python: str, requirements: Path, target: Path) -> None:
    """What SAM's default Python builder does: the requirements for the runtime, no bytecode."""
    platforms = [f"manylinux2014_{_arch()}", f"manylinux_2_28_{_arch()}", f"manylinux_2_34_{_arch()}"]
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
         "--target", str(target), "--implementation", "cp", "--python-version", RUNTIME_VERSION,
         "--only-binary=:all:", *(arg for p in platforms for arg in ("--platform", p)),
         "-r", str(requirements)],
        check=True,
    )  # fmt: skip


def _copy_sources(source: Path, target: Path, names: list[str]) -> None:
    for name in names:
        origin = source / name
        if origin.is_dir():
            shutil.copytree(origin, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(origin, target / name)


PLAIN = "authorizer, plain sam build (no bytecode)"
OURS = "authorizer, BuildMethod makefile (ours)"
NAIVE = "naive authorizer, plain sam build"


def _make_build(
    python: str, code_uri: Path, function: str, target: Path, version: str = RUNTIME_VERSION
) -> None:
    """`make build-<function>`, exactly what `sam build` runs for `BuildMethod: makefile`."""
    subprocess.run(
        [shutil.which("make") or "make", "--no-print-directory", "-s", "-C", str(code_uri),
         f"build-{function}", f"ARTIFACTS_DIR={target}", f"ARCH={_arch()}", f"RUNTIME_PYTHON={python}",
         f"PYTHON_VERSION={version}"],
        check=True,
    )  # fmt: skip


def build(python: str, token_event: dict[str, Any], floor_only: bool = False) -> list[Artifact]:
    """Every artifact of the cold-start rows; with `floor_only`, ours alone (for the floor rows)."""
    if BUILD_DIR.exists():
        shutil.rmtree(BUILD_DIR)
    plain, ours, naive = BUILD_DIR / "plain", BUILD_DIR / "ours", BUILD_DIR / "naive"
    _make_build(python, AUTHORIZER, "AuthorizerFunction", ours)
    if floor_only:
        return [Artifact(OURS, ours, "authorizer_handler", token_event, OURS)]
    _pip_install(python, AUTHORIZER / "requirements.txt", plain)
    _copy_sources(AUTHORIZER, plain, ["authorizer_handler.py", "jwt_authorizer"])
    _copy_sources(SHARED, plain, SHARED_MODULES)
    ours_only = shutil.ignore_patterns("authorizer_handler.py", "jwt_authorizer", *SHARED_MODULES)
    shutil.copytree(plain, naive, ignore=ours_only)
    shutil.copy2(ROOT / "bench" / "naive_authorizer.py", naive / "naive_authorizer.py")
    artifacts = [
        Artifact(PLAIN, plain, "authorizer_handler", token_event, PLAIN),
        Artifact(OURS, ours, "authorizer_handler", token_event, PLAIN),
        Artifact(NAIVE, naive, "naive_authorizer", token_event, PLAIN),
    ]
    return artifacts + _build_api(python)


def _build_api(python: str) -> list[Artifact]:
    """The sample API functions, plain and as functions/api/Makefile builds them, when they and their
    sample events exist."""
    handlers = {
        "public_api": ("PublicFunction", "public-get.json"),
        "protected_api": ("ProtectedFunction", "profile-get.json"),
    }
    events = ROOT / "events"
    if not all(
        (API / f"{module}.py").exists() and (events / name).exists() for module, (_, name) in handlers.items()
    ):
        return []
    # Lambda's Python runtime provides boto3 (the protected function's DynamoDB client), precompiled,
    # behind the function's own code; the function's zip leaves it out (functions/api/requirements.txt).
    runtime_sdk = BUILD_DIR / "runtime-sdk"
    requirements = BUILD_DIR / "runtime-sdk.txt"
    requirements.write_text("boto3\n")
    _pip_install(python, requirements, runtime_sdk)
    subprocess.run(
        [python, "-m", "compileall", "-q", str(runtime_sdk)], check=True, stdout=subprocess.DEVNULL
    )
    # The table is never called: GET /profile times the cold start with the client built at init.
    protected = {"PYTHONPATH": str(runtime_sdk), "TABLE_NAME": "bench", "AWS_DEFAULT_REGION": "eu-west-1"}
    # SAM's default Python builder ships the whole CodeUri to both functions.
    plain = BUILD_DIR / "api-plain"
    _pip_install(python, API / "requirements.txt", plain)
    sources = sorted(
        path.name for path in API.iterdir() if path.suffix == ".py" or (path / "__init__.py").exists()
    )
    _copy_sources(API, plain, sources)
    _copy_sources(SHARED, plain, SHARED_MODULES)
    artifacts = []
    for module, (function, name) in handlers.items():
        compiled = BUILD_DIR / function
        _make_build(python, API, function, compiled)
        payload = json.loads((events / name).read_text())
        baseline = f"{module}, plain sam build (no bytecode)"
        own = protected if module == "protected_api" else {}
        artifacts.append(Artifact(baseline, plain, module, payload, baseline, own))
        artifacts.append(
            Artifact(f"{module}, BuildMethod makefile", compiled, module, payload, baseline, own)
        )
    return artifacts


def _command(python: str, artifact: Artifact) -> list[str]:
    return [python, "-s", "-c", _CHILD, str(artifact.path), artifact.module, json.dumps(artifact.event)]


def _process_environment(environment: dict[str, str]) -> dict[str, str]:
    """What a run sees: the authorizer's variables, and no bytecode written (the code is read-only)."""
    return {
        "PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8", **environment
    }  # fmt: skip


def _run_once(python: str, artifact: Artifact, environment: dict[str, str]) -> dict[str, float]:
    completed = subprocess.run(
        _command(python, artifact),
        env=_process_environment(environment | artifact.environment),
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )  # fmt: skip
    lines = [line for line in completed.stdout.splitlines() if line.startswith("BENCH ")]
    if completed.returncode != 0 or not lines:
        raise RuntimeError(f"{artifact.name} failed:\n{completed.stdout}\n{completed.stderr}")
    return json.loads(lines[-1].removeprefix("BENCH "))  # type: ignore[no-any-return]


def time_artifacts(
    python: str, artifacts: list[Artifact], environment: dict[str, str], runs: int
) -> list[tuple[float, float, int]]:
    samples: list[list[dict[str, float]]] = [[] for _ in artifacts]
    for _ in range(runs):
        for index, artifact in enumerate(artifacts):  # interleaved: a busy moment hits every artifact
            samples[index].append(_run_once(python, artifact, environment))
    return [
        (
            statistics.median(s["import"] for s in runs_of) * 1e3,
            statistics.median(s["total"] for s in runs_of) * 1e3,
            int(runs_of[0]["modules"]),
        )
        for runs_of in samples
    ]


def _pyc_count(path: Path) -> int:
    return sum(1 for _ in path.rglob("*.pyc"))


def measure(scenario: Scenario, runs: int = 11, floor_only: bool = False) -> ColdResults:
    """The floor rows (A, B, C), then every artifact against its plain build (unless `floor_only`)."""
    python = runtime_python()
    token = scenario.tokens(1)[0]
    artifacts = build(python, event(token), floor_only)
    pycs = {artifact.name: _pyc_count(artifact.path) for artifact in artifacts}
    ours = next(artifact for artifact in artifacts if artifact.name == OURS)
    environment = _process_environment(scenario.environment())
    floor_results = floor_module.measure(
        scenario, python, ours.path, _command(python, ours), token, environment, pairs=runs
    )
    runtime_rows = _compare_runtimes(scenario, python, ours, token, environment, runs)
    timings = [] if floor_only else time_artifacts(python, artifacts, scenario.environment(), runs)
    if any(_pyc_count(artifact.path) != pycs[artifact.name] for artifact in artifacts):
        raise RuntimeError("a run wrote bytecode into an artifact: the measurement is not cold")
    totals = {artifact.name: total for artifact, (_, total, _) in zip(artifacts, timings, strict=False)}
    rows = [
        ColdResult(artifact.name, imported, total, total / totals[artifact.baseline], modules)
        for artifact, (imported, total, modules) in zip(artifacts, timings, strict=False)
    ]
    version = subprocess.run([python, "-V"], capture_output=True, text=True, check=True).stdout.strip()
    return ColdResults(
        python=version,
        rows=rows,
        floor=floor_results.rows,
        yardsticks=floor_results.yardsticks,
        runtime=runtime_rows,
    )


def _compare_runtimes(
    scenario: Scenario, python: str, ours: Artifact, token: str, environment: dict[str, str], runs: int
) -> list[floor_module.FloorRow]:
    """Ours built for and run on the other runtime, in turns with ours on the template's."""
    other_version = OTHER_RUNTIME_VERSION
    other_python = find_python(other_version) if other_version else None
    if other_version is None or other_python is None:
        return []
    other = Artifact(f"ours on python{other_version}", BUILD_DIR / f"ours-{other_version}", ours.module,
                     ours.event, ours.name)  # fmt: skip
    _make_build(other_python, AUTHORIZER, "AuthorizerFunction", other.path, other_version)
    return floor_module.compare_runtimes(
        scenario,
        (f"python{other_version}", _command(other_python, other)),
        (f"python{RUNTIME_VERSION}", _command(python, ours)),
        environment,
        pairs=runs,
    )
