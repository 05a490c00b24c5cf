"""Dpop=allowed on the local stack: Bearer tokens as before, DPoP tokens with their proofs, and a DPoP-bound
token refused as Bearer. (A module of its own: the local DynamoDB of one stack at a time.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from local.dpop_client import ProofKey
from tests.e2e.test_dpop_flow import call, start, token

pytestmark = pytest.mark.e2e


def test_allowed_mode_takes_a_plain_bearer_token_and_a_dpop_one(tmp_path: Path) -> None:
    running = start("allowed", tmp_path, [])
    try:
        key = ProofKey.generate()
        plain = token(running, None).json()["access_token"]
        bound = token(running, key).json()["access_token"]
        url = f"{running.api_url}/messages"

        assert call(running, "GET", "/messages", {"Authorization": f"Bearer {plain}"}) == 200
        assert call(running, "GET", "/messages", {"Authorization": f"Bearer {bound}"}) == 401
        dpop = {"Authorization": f"DPoP {bound}", "DPoP": key.proof("GET", url, bound)}
        assert call(running, "GET", "/messages", dpop) == 200
    finally:
        running.stop()
