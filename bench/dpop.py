"""DPoP's cost, warm: a DPoP decision against a Bearer decision on a new token, side by side in one run.

Two DPoP rows, each with its own fresh proof for every call, both against the same Bearer row:

- **new token and its proof** (the issue's target row): the verified-token cache is emptied before each
  slice, so every call verifies its token and its proof in full, as the Bearer row verifies its token.
- **same token again, fresh proof**: what a DPoP client really sends, a token it reuses for its whole life
  with a new proof for each call. The verified-token cache serves the token (its `cnf` binding is still
  checked on every call); the proof is checked in full, since a proof is single-use and nothing about it
  is cached but its parsed key.

The authorizers run in this process with the same keys (cached) and telemetry; each DPoP one gets REQUEST
events and a replay store that records nothing (the table's round trip is not the authorizer's work and
is measured on its own, against the local DynamoDB on 127.0.0.1).
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.scenario import Scenario, event
from devkit.tokens import claims_for, mint
from local.dpop_client import ProofKey

ROOT = Path(__file__).resolve().parent.parent
REPLAY_TABLE = "DpopReplayTable"  # template.yaml's
#: A warm DPoP decision (proof and token) may cost at most this many Bearer decisions on a new token.
DPOP_TARGET = 2.5
DOMAIN = "a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com"
URL = f"https://{DOMAIN}/prod/messages"
SLICES = 30


#: The rows, as the table names them; the target is read against STRICT_ROW, the decision the issue names.
BEARER_ROW = "Bearer, new token"
STRICT_ROW = "DPoP, new token and its proof (replay table excluded)"
REUSED_ROW = "DPoP, same token again, fresh proof (replay table excluded)"


@dataclass
class DpopResult:
    name: str
    micros: float
    #: x a warm Bearer decision on a new token (None for the rows that are not decisions).
    ratio: float | None = None
    #: The most `ratio` may be: only the row the target is read against has one.
    target: float | None = None

    @property
    def met(self) -> bool:
        return self.ratio is None or self.target is None or self.ratio <= self.target


class _RecordsNothing:
    """A replay store that takes every proof as new: the decision without the table."""

    def first_use(self, proof: object) -> bool:
        return True


def _request_event(token: str, proof: str) -> dict[str, Any]:
    headers = {"Authorization": f"DPoP {token}", "DPoP": proof, "Host": DOMAIN, "X-Forwarded-Proto": "https"}
    return {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/messages",
        "resource": "/messages",
        "path": "/messages",
        "httpMethod": "GET",
        "headers": {**headers, "X-Forwarded-Port": "443"},
        "multiValueHeaders": {
            name: [value] for name, value in {**headers, "X-Forwarded-Port": "443"}.items()
        },
        "requestContext": {"path": "/prod/messages", "domainName": DOMAIN, "stage": "prod", "identity": {}},
    }


def _services(scenario: Scenario) -> tuple[Any, Any, Any]:
    """A Bearer authorizer and two DPOP=required ones (one whose verified-token cache is emptied before
    each slice, one whose cache keeps its tokens), all on the same keys and telemetry; the DPoP ones'
    replay store records nothing."""
    from aws_lambda_powertools import Logger

    from jwt_authorizer import CloudWatchTelemetry, EmfMetrics, build_authorizer

    telemetry = CloudWatchTelemetry(Logger(service="bench-dpop"), EmfMetrics("bench", "bench-dpop"))
    bearer = build_authorizer(scenario.environment(), telemetry=telemetry)
    dpop_env = scenario.environment() | {"DPOP": "required", "DPOP_REPLAY_TABLE": "unused"}
    new_tokens = build_authorizer(dpop_env, telemetry=telemetry, replay=_RecordsNothing())
    cached_tokens = build_authorizer(dpop_env, telemetry=telemetry, replay=_RecordsNothing())
    return bearer, new_tokens, cached_tokens


def measure(scenario: Scenario, rounds: int = 9, calls: int = 100) -> list[DpopResult]:
    from bench.warm import _best_per_call, _quiet

    # What Lambda sets, for the replay table's client (built at cold start, used only by the round trip).
    for name, value in {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"}.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

    key = ProofKey.generate()
    now = int(time.time())
    bearer_tokens = scenario.tokens(calls)
    bound_tokens = [
        mint(
            scenario.key,
            claims_for(
                scenario.server.issuer, now=now, exp=now + 3600, jti=f"dpop-{n}", cnf={"jkt": key.thumbprint}
            ),
        )
        for n in range(calls)
    ]
    bearer, new_tokens, cached_tokens = _services(scenario)
    bearer_events = [event(token) for token in bearer_tokens]

    # A new proof for every call of every slice of each DPoP row: made ahead, outside the timed loop.
    def proofs() -> list[dict[str, Any]]:
        return [_request_event(token, key.proof("GET", URL, token)) for token in bound_tokens]

    batches = {
        name: iter([proofs() for _ in range(rounds * SLICES + 1)]) for name in (STRICT_ROW, REUSED_ROW)
    }
    current = {name: next(batch) for name, batch in batches.items()}

    def next_batch(name: str, service: Any, empty_cache: bool) -> Callable[[], None]:
        def setup() -> None:
            if empty_cache:
                service.token_cache.clear()
            current[name] = next(batches[name])

        return setup

    variants: dict[str, Callable[[int], object]] = {
        BEARER_ROW: lambda index: bearer.handle(bearer_events[index]),
        STRICT_ROW: lambda index: new_tokens.handle(current[STRICT_ROW][index]),
        REUSED_ROW: lambda index: cached_tokens.handle(current[REUSED_ROW][index]),
    }
    setup = {
        BEARER_ROW: bearer.token_cache.clear,
        STRICT_ROW: next_batch(STRICT_ROW, new_tokens, empty_cache=True),
        REUSED_ROW: next_batch(REUSED_ROW, cached_tokens, empty_cache=False),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    ratios: dict[str, list[float]] = {STRICT_ROW: [], REUSED_ROW: []}
    with _quiet("bench-dpop"):
        bearer.handle(bearer_events[0])  # the keys, once: warm means keys cached
        for name, service in ((STRICT_ROW, new_tokens), (REUSED_ROW, cached_tokens)):
            # The cached row's tokens, verified once; their proofs here are not used again.
            for request in current[name]:
                allowed = service.handle(request)
                assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow", allowed
        assert len(cached_tokens.token_cache) == calls
        for _ in range(rounds):
            round_times = _best_per_call(variants, setup, calls)
            for name, micros in round_times.items():
                times[name].append(micros)
            for name, row_ratios in ratios.items():
                row_ratios.append(round_times[name] / round_times[BEARER_ROW])
    results = [
        DpopResult(BEARER_ROW, statistics.median(times[BEARER_ROW]), 1.0),
        DpopResult(
            STRICT_ROW,
            statistics.median(times[STRICT_ROW]),
            statistics.median(ratios[STRICT_ROW]),
            DPOP_TARGET,
        ),
        DpopResult(
            REUSED_ROW,
            statistics.median(times[REUSED_ROW]),
            statistics.median(ratios[REUSED_ROW]),
        ),
    ]
    return [*results, _replay_round_trip(key, bound_tokens[0])]


def _replay_round_trip(key: ProofKey, token: str, writes: int = 200) -> DpopResult:
    """One conditional write to the replay table, on the local DynamoDB (moto's server) over 127.0.0.1."""
    from jwt_authorizer import DynamoDbReplayStore, ProofRules, verify_proof
    from local.dynamodb import LocalDynamoDB
    from local.template import load_api

    parameters = {"IssuerUrl": "https://issuer.example.com", "Audience": "api://messages", "Dpop": "required"}
    table = load_api(ROOT / "template.yaml", parameters).tables[REPLAY_TABLE]

    database = LocalDynamoDB(port=0)
    database.start()
    try:
        database.create_tables([table])
        store = DynamoDbReplayStore.connect(REPLAY_TABLE, database.url)
        now = time.time()
        proofs = [
            verify_proof(
                key.proof("GET", URL, token),
                method="GET",
                url=URL,
                access_token=token,
                now=now,
                rules=ProofRules(),
            )
            for _ in range(writes)
        ]
        store.first_use(proofs[0])  # the connection, once
        durations = []
        for proof in proofs[1:]:
            start = time.perf_counter()
            store.first_use(proof)
            durations.append(time.perf_counter() - start)
    finally:
        database.stop()
    return DpopResult(
        "replay table: one conditional PutItem (local DynamoDB, 127.0.0.1)",
        statistics.median(durations) * 1e6,
    )
