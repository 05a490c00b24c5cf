"""Lambda functions run in this process, each with its own environment and its own copy of its code.

A handler module reads its environment when it is imported (settings, loggers, caches built at module
scope), and the functions of a stack share one Python process here. So each function is imported with
its own environment in place and its own modules: the names its code directory provides are taken out
of `sys.modules` around the import and kept with the function, so two functions with the same CodeUri,
or a test that imported the same module, never share module state. Each invocation runs with that
function's environment and modules in place again. `os.environ`, `sys.path` and `sys.modules` are
process-wide, so invocations take one lock: one invocation at a time, as in one Lambda sandbox. Other
threads of the process see the swap: one that iterates os.environ meanwhile (a requests session that
trusts the environment does, for proxies) can get KeyError, so clients in the same process do not.

A function's code is its CodeUri. The modules two functions ship alike (functions/shared, which their builds
copy into each artifact: functions/python-bytecode.mk) are installed in the project's virtualenv, as an
ordinary import; they keep no state of their own, so one copy serves every function here.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from local.apigateway import ACCOUNT_ID, REGION
from local.template import FunctionSpec

#: Variables of this process a function may see besides its own (Lambda gives a clean environment).
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
_RUNTIME_LOCK = threading.RLock()


class FunctionLoadError(Exception):
    """A function's handler could not be imported (its init failed); the message says why."""


@dataclass
class LambdaContext:
    """The context object a Python handler receives, with the attributes Powertools reads."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str
    function_version: str = "$LATEST"

    def __post_init__(self) -> None:
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_seconds * 1000


class LambdaFunction:
    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self.environment = lambda_environment(spec)
        self._code_dirs = code_dirs(spec)
        self._own_names = frozenset[str]().union(*map(_top_level_names, self._code_dirs))
        self._modules: dict[str, ModuleType] = {}
        self._handler: Callable[[dict[str, Any], LambdaContext], Any] | None = None

    def load(self) -> None:
        """Import the handler module as a cold start would; FunctionLoadError if its init fails."""
        module_name, _, attribute = self.spec.handler.rpartition(".")
        try:
            with self._sandbox():
                module = importlib.import_module(module_name)
        except Exception as error:
            self._modules = {}
            raise FunctionLoadError(
                f"{self.spec.logical_id}: importing {module_name} failed: {type(error).__name__}: {error}"
            ) from error
        handler = getattr(module, attribute, None)
        if not callable(handler):
            raise FunctionLoadError(f"{self.spec.logical_id}: {self.spec.handler} is not a function")
        self._handler = handler

    def invoke(self, event: dict[str, Any]) -> Any:
        """Call the handler with `event`; its exceptions propagate, as Lambda reports them."""
        if self._handler is None:
            self.load()
        handler = self._handler
        if handler is None:
            raise FunctionLoadError(f"{self.spec.logical_id} is not loaded")
        context = LambdaContext(
            function_name=self.spec.logical_id,
            memory_limit_in_mb=self.spec.memory_mb,
            timeout_seconds=self.spec.timeout_seconds,
            aws_request_id=str(uuid.uuid4()),
        )
        with self._sandbox():
            return handler(event, context)

    @contextmanager
    def _sandbox(self) -> Iterator[None]:
        with _RUNTIME_LOCK:
            saved_environment = dict(os.environ)
            saved_path = list(sys.path)
            shadowed = {name: sys.modules.pop(name) for name in list(sys.modules) if self._owns(name)}
            sys.modules.update(self._modules)
            os.environ.clear()
            os.environ.update(self.environment)
            sys.path[:0] = [str(folder) for folder in self._code_dirs]
            importlib.invalidate_caches()
            try:
                yield
            finally:
                self._modules = {
                    name: sys.modules.pop(name) for name in list(sys.modules) if self._owns(name)
                }
                sys.modules.update(shadowed)
                sys.path[:] = saved_path
                os.environ.clear()
                os.environ.update(saved_environment)

    def _owns(self, module_name: str) -> bool:
        return module_name.partition(".")[0] in self._own_names


def lambda_environment(spec: FunctionSpec) -> dict[str, str]:
    """What Lambda puts in a function's environment, then the template's variables."""
    inherited = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    return {
        **inherited,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "_HANDLER": spec.handler,
        "TZ": ":UTC",
        # Lambda gives every function its role's temporary credentials; the local DynamoDB takes any.
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        **spec.environment,
    }


def code_dirs(spec: FunctionSpec) -> list[Path]:
    """Where a function's own modules come from: its CodeUri."""
    return [spec.code_dir]


def _top_level_names(code_dir: Path) -> frozenset[str]:
    """The module and package names a code directory provides (what its handler imports as its own)."""
    names = set()
    for entry in code_dir.iterdir():
        if entry.suffix == ".py":
            names.add(entry.stem)
        elif entry.is_dir() and entry.name.isidentifier() and any(entry.glob("*.py")):
            names.add(entry.name)
    return frozenset(names)
