"""JWKS requests that reach a real JWKS server on 127.0.0.1, counted by the server.

Our authorizer runs with an injected clock, so hours of traffic take a moment and the cache periods and
cooldowns are exact; the HTTP is real. The naive baseline (PyJWKClient) cannot take a clock: it is shown
for the kid flood only, in real time.
"""

from __future__ import annotations

import contextlib
import io
import logging
import random
from dataclasses import dataclass

from bench.scenario import event
from devkit.clock import FakeClock
from devkit.jwks_server import running_jwks_server
from devkit.tokens import AUDIENCE, claims_for, jwks_of, mint, raw_token, rsa_key
from jwt_authorizer import AuthorizerService, CloudWatchTelemetry, EmfMetrics, Settings, build_authorizer

CACHE_SECONDS = 600
COOLDOWN_SECONDS = 30


@dataclass
class TrafficResult:
    name: str
    requests: int
    fetches: int
    allowed_fetches: int

    @property
    def met(self) -> bool:
        return self.fetches <= self.allowed_fetches


class _Clocks:
    """Monotonic and wall clocks moved together."""

    def __init__(self) -> None:
        self.monotonic = FakeClock(1_000.0)
        self.wall = FakeClock(1_800_000_000.0)

    def advance(self, seconds: float) -> None:
        self.monotonic.advance(seconds)
        self.wall.advance(seconds)


def _service(issuer: str, jwks_uri: str, clocks: _Clocks) -> AuthorizerService:
    settings = Settings.from_env(
        {
            "ISSUER": issuer,
            "AUDIENCE": AUDIENCE,
            "JWKS_URI": jwks_uri,
            "JWKS_CACHE_SECONDS": str(CACHE_SECONDS),
            "JWKS_COOLDOWN_SECONDS": str(COOLDOWN_SECONDS),
        }
    )
    silent = logging.getLogger("bench.jwks")
    silent.addHandler(logging.NullHandler())
    silent.propagate = False
    telemetry = CloudWatchTelemetry(silent, EmfMetrics("Bench", "bench"), clock=clocks.monotonic)
    return build_authorizer(settings, telemetry=telemetry, clock=clocks.monotonic, now=clocks.wall)


def _forged(claims: dict[str, object]) -> str:
    """A token under a kid nobody published (its signature is never reached)."""
    header = {"alg": "RS256", "typ": "JWT", "kid": f"flood-{random.getrandbits(64):x}"}
    return raw_token(header, claims, b"x" * 256)


def _attempt(service: AuthorizerService, token: str) -> None:
    with contextlib.suppress(Exception):
        service.handle(event(token))


def measure_ours() -> list[TrafficResult]:
    results = []
    key, rotated = rsa_key("bench-1"), rsa_key("bench-2")
    with running_jwks_server() as server, contextlib.redirect_stdout(io.StringIO()):
        jwks_uri = server.base_url + server.jwks_path

        # Steady state: one valid token every 2 s for 5 cache periods.
        server.publish(jwks_of(key))
        clocks = _Clocks()
        service = _service(server.issuer, jwks_uri, clocks)
        periods, interval = 5, 2.0
        count = int(periods * CACHE_SECONDS / interval)
        for _ in range(count):
            _attempt(service, mint(key, claims_for(server.issuer, now=clocks.wall())))
            clocks.advance(interval)
        results.append(
            TrafficResult(f"steady state, {periods} cache periods", count, server.jwks_fetches, periods)
        )

        # A flood of tokens with random kids for 10 cooldowns, after a warm start.
        before = server.jwks_fetches
        cooldowns, flood = 10, 5_000
        genuine = mint(key, claims_for(server.issuer, now=clocks.wall()))
        _attempt(service, genuine)
        forged_claims = claims_for(server.issuer, now=clocks.wall(), exp=int(clocks.wall()) + 7200)
        for _ in range(flood):
            _attempt(service, _forged(forged_claims))
            clocks.advance(cooldowns * COOLDOWN_SECONDS / flood)
        fetched = server.jwks_fetches - before
        results.append(
            TrafficResult(
                f"kid flood, {flood} requests over {cooldowns} cooldowns", flood, fetched, cooldowns + 1
            )
        )

        # Rotation: the provider publishes a new key and the first token signed with it arrives.
        server.publish(jwks_of(key, rotated))
        before = server.jwks_fetches
        clocks.advance(COOLDOWN_SECONDS)
        service.authorize(event(mint(rotated, claims_for(server.issuer, now=clocks.wall()))))
        results.append(TrafficResult("key rotation picked up", 1, server.jwks_fetches - before, 1))
    return results


def measure_naive_flood(flood: int = 2_000) -> TrafficResult:
    key = rsa_key("bench-naive")
    with running_jwks_server() as server:
        server.publish(jwks_of(key))
        import jwt

        client = jwt.PyJWKClient(server.base_url + server.jwks_path, cache_keys=True)
        client.get_signing_key_from_jwt(mint(key, claims_for(server.issuer)))
        claims = claims_for(server.issuer)
        before = server.jwks_fetches
        for _ in range(flood):
            with contextlib.suppress(jwt.PyJWKClientError):
                client.get_signing_key_from_jwt(_forged(claims))
        return TrafficResult(
            f"naive PyJWKClient, kid flood of {flood} (real time)", flood, server.jwks_fetches - before, 1
        )


def measure() -> list[TrafficResult]:
    return [*measure_ours(), measure_naive_flood()]
