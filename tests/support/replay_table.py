"""The DPoP replay table as template.yaml defines it (Dpop allowed or required), for tests on moto."""

from __future__ import annotations

from functools import cache
from typing import Any

from local.dynamodb import create_table_requests
from local.template import TableSpec, load_api
from tests.support.messages_table import ROOT

REPLAY_TABLE = "DpopReplayTable"


@cache
def replay_table_spec() -> TableSpec:
    parameters = {"IssuerUrl": "https://issuer.example.com", "Audience": "api://messages", "Dpop": "required"}
    return load_api(ROOT / "template.yaml", parameters).tables[REPLAY_TABLE]


def create_replay_table(client: Any) -> None:
    for operation, request in create_table_requests(replay_table_spec()):
        getattr(client, operation)(**request)
