"""DPoP's cost, warm: a decision on a new DPoP-bound token and its proof against one on a new Bearer token.

Both authorizers run in this process with the same keys (cached) and telemetry; before each slice their
verified-token caches are emptied, so every call verifies its token. The DPoP one gets REQUEST events,
each with its own fresh proof, and a replay store that records nothing (the table's round trip is not
the authorizer's work and is measured on its own, against the local DynamoDB on 127.0.0.1).
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


@dataclass
class DpopResult:
    name: str
    micros: float
    #: x a warm Bearer decision on a new token (None for the rows that are not decisions).
    ratio: float | None = None

    @property
    def target(self) -> float | None:
        return DPOP_TARGET if self.name.startswith("DPoP") else None

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


def _services(scenario: Scenario) -> tuple[Any, Any]:
    """A Bearer authorizer and a DPOP=required one on the same keys and telemetry; the DPoP one's replay
    store records nothing."""
    from aws_lambda_powertools import Logger

    from jwt_authorizer import CloudWatchTelemetry, EmfMetrics, build_authorizer

    telemetry = CloudWatchTelemetry(Logger(service="bench-dpop"), EmfMetrics("bench", "bench-dpop"))
    bearer = build_authorizer(scenario.environment(), telemetry=telemetry)
    dpop_env = scenario.environment() | {"DPOP": "required", "DPOP_REPLAY_TABLE": "unused"}
    dpop_service = build_authorizer(dpop_env, telemetry=telemetry, replay=_RecordsNothing())
    return bearer, dpop_service


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
    bearer, dpop_service = _services(scenario)
    bearer_events = [event(token) for token in bearer_tokens]

    # A new proof for every call of every slice: made ahead, outside the timed loop.
    def proofs() -> list[dict[str, Any]]:
        return [_request_event(token, key.proof("GET", URL, token)) for token in bound_tokens]

    batches = [proofs() for _ in range(rounds * SLICES + 1)]
    batch = iter(batches)
    current: list[list[dict[str, Any]]] = [next(batch)]

    def dpop_setup() -> None:
        dpop_service.token_cache.clear()
        current[0] = next(batch)

    variants: dict[str, Callable[[int], object]] = {
        "Bearer, new token": lambda index: bearer.handle(bearer_events[index]),
        "DPoP, new token and its proof": lambda index: dpop_service.handle(current[0][index]),
    }
    setup = {"Bearer, new token": bearer.token_cache.clear, "DPoP, new token and its proof": dpop_setup}
    times: dict[str, list[float]] = {name: [] for name in variants}
    ratios: list[float] = []
    with _quiet("bench-dpop"):
        bearer.handle(bearer_events[0])  # the keys, once: warm means keys cached
        allowed = dpop_service.handle(current[0][0])
        assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow", allowed
        for _ in range(rounds):
            round_times = _best_per_call(variants, setup, calls)
            for name, micros in round_times.items():
                times[name].append(micros)
            ratios.append(round_times["DPoP, new token and its proof"] / round_times["Bearer, new token"])
    results = [
        DpopResult("Bearer, new token", statistics.median(times["Bearer, new token"]), 1.0),
        DpopResult(
            "DPoP, new token and its proof (replay table excluded)",
            statistics.median(times["DPoP, new token and its proof"]),
            statistics.median(ratios),
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
