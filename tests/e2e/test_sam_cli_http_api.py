"""The real SAM CLI on the HTTP API variant: the README's flow against `sam local start-api` started by
`make sam-local TEMPLATE=examples/http-api/template.yaml`, payload 2.0 events for the authorizer and the
functions. Skipped without Docker, as test_sam_cli.py is (`make test-sam` runs both).

The statuses are the SAM CLI's, within its documented differences from an HTTP API (docs/http-api.md): a
missing Authorization header is 401 before any invocation; a refused token is 403 with the SAM CLI's own
message (an HTTP API answers 401), as the authorizer answers the SAM CLI with a policy that allows nothing.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.stack import ROOT
from tests.e2e.test_sam_cli import (
    MAKE,
    SamLocal,
    _expired_token,
    _forged,
    _seen,
    running_sam_local,
    skip_unless_docker,  # noqa: F401 - the fixture, shared
)

pytestmark = pytest.mark.sam

TEMPLATE = ROOT / "examples" / "http-api" / "template.yaml"
#: A step of the flow: its name, method, path, Authorization, request arguments, and the status expected.
Step = tuple[str, str, str, str | None, dict[str, Any], int]


@pytest.fixture(scope="module")
def sam_local_http_api(
    skip_unless_docker: None,  # noqa: F811 - the fixture imported above
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SamLocal]:
    with running_sam_local(tmp_path_factory.mktemp("sam-local-http-api"), TEMPLATE) as running:
        yield running


def _token_of(client: str, sam: SamLocal) -> str:
    """`make token CLIENT=...`, unchanged, against the provider make sam-local started."""
    result = subprocess.run(  # noqa: S603 - our own Makefile
        [MAKE, "-s", "token", f"PROVIDER_PORT={sam.options.provider_port}", f"CLIENT={client}"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return result.stdout.strip()


def test_the_readme_flow_on_the_http_api_gives_the_documented_statuses(sam_local_http_api: SamLocal) -> None:
    sam = sam_local_http_api
    reader = sam.token("messages:read")
    writer = sam.token("messages:read messages:write")
    post = {"json": {"text": "hello"}}
    steps: list[Step] = [
        ("public, no token", "GET", "/public", None, {}, 200),
        ("metadata, no token", "GET", "/.well-known/oauth-protected-resource", None, {}, 200),
        ("no token", "GET", "/profile", None, {}, 401),
        ("malformed token", "GET", "/profile", "Bearer not-a-jwt", {}, 403),
        ("forged token", "GET", "/profile", f"Bearer {_forged(reader)}", {}, 403),
        ("expired token", "GET", "/profile", f"Bearer {_expired_token(sam.options.provider_port)}", {}, 403),
        ("read token, profile", "GET", "/profile", f"Bearer {reader}", {}, 200),
        ("read token, messages", "GET", "/messages", f"Bearer {reader}", {}, 200),
        ("read token, post", "POST", "/messages", f"Bearer {reader}", post, 403),
        ("both scopes, post", "POST", "/messages", f"Bearer {writer}", post, 201),
    ]
    seen: dict[str, requests.Response] = {}
    for name, method, path, authorization, kwargs, _ in steps:
        seen[name] = sam.call(method, path, authorization, **kwargs)
    created = seen["both scopes, post"].json()
    message = f"/messages/{created['id']}"
    other = _token_of("writer-client", sam)
    later: list[Step] = [
        ("both scopes, read it", "GET", message, f"Bearer {writer}", {}, 200),
        ("read token, delete it", "DELETE", message, f"Bearer {reader}", {}, 403),
        ("another client deletes it", "DELETE", message, f"Bearer {other}", {}, 403),
        ("its author deletes it", "DELETE", message, f"Bearer {writer}", {}, 204),
        ("gone", "GET", message, f"Bearer {writer}", {}, 404),
    ]
    for name, method, path, authorization, kwargs, _ in later:
        seen[name] = sam.call(method, path, authorization, **kwargs)
    steps += later
    print("\n".join(f"{name}: {method} {path} -> {_seen(seen[name])}" for name, method, path, *_ in steps))
    assert {name: seen[name].status_code for name, *_ in steps} == {
        name: status for name, *_, status in steps
    }
    assert seen["read token, profile"].json()["scopes"] == ["messages:read"]
    assert (created["text"], created["author"]) == ("hello", "dev-client")
    # SAM CLI 1.170 writes "localhost" as a payload 2.0 event's requestContext.domainName, whatever the
    # Host (samcli/local/events/api_event.py, RequestContextV2): the resource read from it says so.
    assert seen["metadata, no token"].json()["resource"] == "http://localhost"
    assert seen["another client deletes it"].json()["error"] == "forbidden"
    # Refused tokens are the SAM CLI's own 403, never its 502 for an authorizer that raised.
    refused = {"message": "User is not authorized to access this resource"}
    assert seen["forged token"].json() == seen["expired token"].json() == refused
