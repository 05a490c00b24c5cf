"""The real SAM CLI with Dpop=required: docs/dpop.md's flow against `sam local start-api` started by
`make sam-local DPOP=required`, the REQUEST authorizer in Docker, the replay table in the local DynamoDB.
Skipped without Docker, as test_sam_cli.py is (`make test-sam` runs both).

The statuses are the SAM CLI's, within its documented differences (docs/dpop.md, docs/sam-cli.md): a
missing identity source is 401 before any invocation; a refused proof is 403 with the SAM CLI's own
message (API Gateway answers 401), as the authorizer answers the SAM CLI with a policy that allows nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from local.dpop_client import ProofKey
from tests.e2e.test_sam_cli import (
    SamLocal,
    running_sam_local,
    skip_unless_docker,  # noqa: F401 - the fixture, shared
)

pytestmark = pytest.mark.sam


@pytest.fixture(scope="module")
def sam_local_dpop(
    skip_unless_docker: None,  # noqa: F811 - the fixture imported above
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SamLocal]:
    with running_sam_local(tmp_path_factory.mktemp("sam-local-dpop"), variables=["DPOP=required"]) as running:
        yield running


def _bound_token(sam: SamLocal, key: ProofKey, scope: str) -> str:
    endpoint = f"http://127.0.0.1:{sam.options.provider_port}/oauth2/token"
    answer = requests.post(
        endpoint,
        data={"grant_type": "client_credentials", "scope": scope},
        auth=("dev-client", "dev-secret"),
        headers={"DPoP": key.proof("POST", endpoint)},
        timeout=30,
    )
    assert answer.json()["token_type"] == "DPoP", answer.text
    return str(answer.json()["access_token"])


def test_the_dpop_flow_gives_the_documented_statuses(sam_local_dpop: SamLocal) -> None:
    sam = sam_local_dpop
    key = ProofKey.generate()
    reader = _bound_token(sam, key, "messages:read")
    writer = _bound_token(sam, key, "messages:read messages:write")
    url = f"{sam.api}/messages"
    proof = key.proof("GET", url, reader)

    def call(method: str, token: str, dpop: str | None, **kwargs: object) -> int:
        headers = {"Authorization": f"DPoP {token}"} | ({"DPoP": dpop} if dpop is not None else {})
        return requests.request(method, url, headers=headers, timeout=60, **kwargs).status_code  # type: ignore[arg-type]

    statuses = {
        "no proof": call("GET", reader, None),
        "another URL": call("GET", reader, key.proof("GET", f"{sam.api}/profile", reader)),
        "another method": call("GET", reader, key.proof("POST", url, reader)),
        "fresh": call("GET", reader, proof),
        "replayed": call("GET", reader, proof),
        "under-scoped": call("POST", reader, key.proof("POST", url, reader), json={"text": "hi"}),
        "with the scope": call("POST", writer, key.proof("POST", url, writer), json={"text": "hi"}),
    }

    assert statuses == {
        "no proof": 401,
        "another URL": 403,
        "another method": 403,
        "fresh": 200,
        "replayed": 403,
        "under-scoped": 403,
        "with the scope": 201,
    }
    log = sam.log.read_text()
    for reason in ("dpop_htu_mismatch", "dpop_htm_mismatch", "dpop_replayed"):
        assert f'"reason":"{reason}"' in log
