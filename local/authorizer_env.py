"""The authorizer's settings as the running local stack gives them to it: `make dev` writes them, and
`make explain` reads them, so explaining a token from the local stack needs no other argument.

The file holds what `aws lambda get-function-configuration --query Environment.Variables` prints for a
deployed authorizer (a JSON object of names to strings), so the explain tool reads both one way. It is
in .local/ (git-ignored) and removed when the stack stops.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

PATH = Path(__file__).resolve().parent.parent / ".local" / "authorizer-env.json"


def write(environment: Mapping[str, str], path: Path = PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(environment), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def remove(path: Path = PATH) -> None:
    path.unlink(missing_ok=True)
