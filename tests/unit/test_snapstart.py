"""The SnapStart hooks, run as Lambda runs them, with the clocks jumping across the restore.

Lambda runs the registered before-snapshot hooks in reverse order of registration when a version is
published, and the after-restore hooks in order of registration in every environment restored from the
snapshot; snapshot_restore_py holds the registry. A restore lands on another host: its monotonic clock
has nothing to do with the one the snapshot was taken on, and the wall clock has moved on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import snapshot_restore_py

from devkit.clock import FakeClock
from devkit.tokens import AUDIENCE, SigningKey, claims_for, jwks_of, mint
from jwt_authorizer import AuthorizerService, snapstart
from jwt_authorizer.config import Settings
from jwt_authorizer.errors import JwksFetchError
from jwt_authorizer.jwks import HttpJsonFetcher, JwksCache
from jwt_authorizer.keys import ParsedJwks, parse_jwks
from jwt_authorizer.telemetry import CloudWatchTelemetry, EmfMetrics

ISSUER = "https://issuer.example.com"
TTL, COOLDOWN, MAX_STALE = 600, 30, 3600
STAGE = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/dev"


class Provider:
    def __init__(self, *keys: SigningKey) -> None:
        self.keys = keys
        self.loads = 0
        self.down = False

    def __call__(self) -> ParsedJwks:
        self.loads += 1
        if self.down:
            raise JwksFetchError("connection refused")
        return parse_jwks(jwks_of(*self.keys), frozenset({"RS256"}))


class QuietLogger:
    def info(self, *args: object, **kwargs: object) -> None:
        pass

    error = exception = info


class Environment:
    """An authorizer as the handler wires it, on fake clocks, with its hooks registered."""

    def __init__(self, provider: Provider) -> None:
        self.clock = FakeClock(50_000.0)  # monotonic: seconds since the host booted
        self.wall = FakeClock(1_800_000_000.0)
        self.provider = provider
        settings = Settings.from_env(
            {"ISSUER": ISSUER, "AUDIENCE": AUDIENCE, "ROUTE_SCOPES": json.dumps({"GET /profile": []})}
        )
        self.cache = JwksCache(
            provider, ISSUER, ttl=TTL, cooldown=COOLDOWN, max_stale=MAX_STALE,
            clock=self.clock, wall_clock=self.wall,
        )  # fmt: skip
        self.telemetry = CloudWatchTelemetry(
            QuietLogger(), EmfMetrics("JwtAuthorizer", "test"), clock=self.clock
        )
        self.service = AuthorizerService(settings, self.telemetry, {ISSUER: self.cache}, now=self.wall)
        self.fetcher = HttpJsonFetcher(clock=self.clock)
        snapstart.register(
            lambda: snapstart.before_snapshot([self.cache], self.fetcher),
            lambda: snapstart.after_restore(
                [self.cache], self.service.token_cache, self.telemetry, prefetch=True
            ),
        )

    def take_snapshot(self) -> None:
        for hook, args, kwargs in reversed(snapshot_restore_py.get_before_snapshot()):
            hook(*args, **kwargs)

    def restore(self, on_a_host_booted_seconds_ago: float, wall_seconds_later: float) -> None:
        self.clock.now = on_a_host_booted_seconds_ago
        self.wall.advance(wall_seconds_later)
        for hook, args, kwargs in snapshot_restore_py.get_after_restore():
            hook(*args, **kwargs)

    def authorize(self, token: str) -> dict[str, Any]:
        return self.service.authorize(
            {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": f"{STAGE}/GET/profile"}
        )


@pytest.fixture(autouse=True)
def _only_this_tests_hooks() -> Iterator[None]:
    """The registry is the process's: run this test's hooks alone, and leave the others (the handler's)."""
    registries = snapshot_restore_py.get_before_snapshot(), snapshot_restore_py.get_after_restore()
    saved = [list(registry) for registry in registries]
    for registry in registries:
        registry.clear()
    yield
    for registry, entries in zip(registries, saved, strict=True):
        registry[:] = entries


@pytest.fixture
def environment(rsa_signing_key: SigningKey) -> Environment:
    return Environment(Provider(rsa_signing_key))


def token_for(environment: Environment, key: SigningKey, **claims: Any) -> str:
    now = int(environment.wall())
    return mint(key, claims_for(ISSUER, now=now, exp=now + 86_400, **claims))


def test_the_keys_are_fetched_before_the_snapshot_and_used_after_a_restore(
    environment: Environment, rsa_signing_key: SigningKey
) -> None:
    environment.take_snapshot()
    assert environment.provider.loads == 1

    environment.restore(on_a_host_booted_seconds_ago=12.0, wall_seconds_later=120)
    environment.authorize(token_for(environment, rsa_signing_key))

    assert environment.provider.loads == 1


def test_keys_keep_their_real_age_across_the_restore(
    environment: Environment, rsa_signing_key: SigningKey
) -> None:
    environment.take_snapshot()
    # Restored 500 s of wall time later, on a host whose monotonic clock is far behind the snapshot's:
    environment.restore(on_a_host_booted_seconds_ago=12.0, wall_seconds_later=500)
    token = token_for(environment, rsa_signing_key)
    environment.authorize(token)
    assert environment.provider.loads == 1
    # 100 s more and the keys are 600 s old: the cache period is over, whatever the clocks did.
    environment.clock.advance(100)
    environment.wall.advance(100)
    environment.authorize(token_for(environment, rsa_signing_key, jti="second"))
    assert environment.provider.loads == 2


def test_keys_older_than_the_cache_period_are_expired_after_the_restore_but_still_serve_if_stale(
    environment: Environment, rsa_signing_key: SigningKey
) -> None:
    environment.take_snapshot()
    environment.provider.down = True

    # A restore an hour and a half after publishing, on a host whose clock is far ahead:
    environment.restore(on_a_host_booted_seconds_ago=9_000_000.0, wall_seconds_later=TTL + 300)
    environment.authorize(token_for(environment, rsa_signing_key))

    # The keys were expired: a refresh was tried at once; it failed, so the stale keys served.
    assert environment.provider.loads == 2


def test_the_verified_token_cache_is_emptied_by_a_restore(
    environment: Environment, rsa_signing_key: SigningKey
) -> None:
    environment.take_snapshot()
    environment.authorize(token_for(environment, rsa_signing_key))  # e.g. a warm-up call before publishing
    assert len(environment.service.token_cache) == 1

    environment.restore(on_a_host_booted_seconds_ago=12.0, wall_seconds_later=60)

    assert len(environment.service.token_cache) == 0


def test_the_unknown_kid_cooldown_starts_afresh_when_the_clock_jumps_back(
    environment: Environment, rsa_signing_key: SigningKey, rotated_rsa_key: SigningKey
) -> None:
    # Given a snapshot taken just after an unknown kid was refetched for (its cooldown running)
    environment.take_snapshot()
    with pytest.raises(Exception, match="unknown_kid"):
        environment.authorize(token_for(environment, rotated_rsa_key))
    assert environment.provider.loads == 2
    # When the environment is restored on a host whose monotonic clock is 50,000 s behind, and the
    # provider has rotated its key meanwhile
    environment.restore(on_a_host_booted_seconds_ago=5.0, wall_seconds_later=60)
    environment.provider.keys = (rsa_signing_key, rotated_rsa_key)
    # Then the rotated key is picked up at once, not after the old host's clock catches up
    environment.authorize(token_for(environment, rotated_rsa_key))
    assert environment.provider.loads == 3


def test_a_failed_fetch_before_the_snapshot_does_not_hold_back_the_restored_environment(
    environment: Environment, rsa_signing_key: SigningKey
) -> None:
    environment.provider.down = True
    environment.take_snapshot()  # the provider was down at publish time: the snapshot holds no keys
    environment.provider.down = False

    environment.restore(on_a_host_booted_seconds_ago=3.0, wall_seconds_later=10)
    environment.authorize(token_for(environment, rsa_signing_key))

    assert environment.provider.loads == 2


def test_nothing_is_registered_without_snapshot_restore_py(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(__import__("sys").modules, "snapshot_restore_py", None)

    assert snapstart.register(lambda: None, lambda: None) is False
