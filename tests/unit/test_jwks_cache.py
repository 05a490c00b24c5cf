from __future__ import annotations

import threading

import pytest

from devkit.clock import FakeClock
from devkit.tokens import SigningKey, jwks_of
from jwt_authorizer.errors import JwksFetchError, TokenRejected, VerificationUnavailable
from jwt_authorizer.jwks import JwksCache
from jwt_authorizer.keys import ParsedJwks, parse_jwks

ISSUER = "https://issuer.example.com"
TTL, COOLDOWN, MAX_STALE = 600, 30, 3600


class FakeProvider:
    """Serves a JWKS to the cache and counts fetches; can be taken down."""

    def __init__(self, *keys: SigningKey) -> None:
        self.keys = keys
        self.down = False
        self.fetches = 0

    def __call__(self) -> ParsedJwks:
        self.fetches += 1
        if self.down:
            raise JwksFetchError("connection refused")
        return parse_jwks(jwks_of(*self.keys), frozenset({"RS256"}))


class RecordingObserver:
    def __init__(self) -> None:
        self.events: list[tuple[str, ...]] = []

    def jwks_fetched(self, issuer: str, key_count: int, skipped: tuple[str, ...], reason: str) -> None:
        self.events.append(("fetched", issuer, str(key_count), reason))

    def jwks_fetch_failed(self, issuer: str, error: str, serving_stale: bool) -> None:
        self.events.append(("failed", issuer, error, str(serving_stale)))


@pytest.fixture
def provider(rsa_signing_key: SigningKey) -> FakeProvider:
    return FakeProvider(rsa_signing_key)


@pytest.fixture
def observer() -> RecordingObserver:
    return RecordingObserver()


@pytest.fixture
def cache(provider: FakeProvider, clock: FakeClock, observer: RecordingObserver) -> JwksCache:
    return JwksCache(
        provider, ISSUER, ttl=TTL, cooldown=COOLDOWN, max_stale=MAX_STALE, clock=clock, observer=observer
    )


def kids(keys: tuple[object, ...]) -> list[str]:
    return [key.kid for key in keys]  # type: ignore[attr-defined]


def test_keys_are_fetched_on_first_use_and_kept_for_the_ttl(
    cache: JwksCache, provider: FakeProvider, clock: FakeClock, observer: RecordingObserver
) -> None:
    assert kids(cache.keys_for("rsa-1")) == ["rsa-1"]
    clock.advance(TTL - 1)
    cache.keys_for("rsa-1")
    assert provider.fetches == 1
    clock.advance(1)
    cache.keys_for("rsa-1")
    assert provider.fetches == 2
    assert observer.events == [
        ("fetched", ISSUER, "1", "cold start"),
        ("fetched", ISSUER, "1", "expired"),
    ]


def test_unknown_kid_refetches_once_then_waits_for_cooldown(
    cache: JwksCache, provider: FakeProvider, clock: FakeClock
) -> None:
    cache.keys_for("rsa-1")
    for attempt in range(50):
        with pytest.raises(TokenRejected) as raised:
            cache.keys_for(f"random-{attempt}")
        assert raised.value.reason == "unknown_kid"
    assert provider.fetches == 2  # the cold start, and one refetch for the first unknown kid
    clock.advance(COOLDOWN)
    with pytest.raises(TokenRejected):
        cache.keys_for("random-again")
    assert provider.fetches == 3


def test_a_rotated_key_is_picked_up_in_one_fetch(
    cache: JwksCache, provider: FakeProvider, rotated_rsa_key: SigningKey, clock: FakeClock
) -> None:
    cache.keys_for("rsa-1")
    clock.advance(5)  # well inside the TTL
    provider.keys = (*provider.keys, rotated_rsa_key)
    assert kids(cache.keys_for("rsa-2")) == ["rsa-2"]
    assert provider.fetches == 2


def test_a_removed_key_stops_working_once_the_keys_are_refreshed(
    cache: JwksCache, provider: FakeProvider, rotated_rsa_key: SigningKey, clock: FakeClock
) -> None:
    cache.keys_for("rsa-1")
    provider.keys = (rotated_rsa_key,)
    clock.advance(TTL)
    with pytest.raises(TokenRejected):
        cache.keys_for("rsa-1")


def test_the_first_fetch_of_a_cold_start_is_not_charged_to_the_unknown_kid_budget(
    cache: JwksCache, provider: FakeProvider
) -> None:
    with pytest.raises(TokenRejected):
        cache.keys_for("unknown")
    assert provider.fetches == 1  # the cold-start fetch already was the fresh look


def test_an_outage_after_warm_up_serves_the_cached_keys_until_max_stale_then_fails_closed(
    cache: JwksCache, provider: FakeProvider, clock: FakeClock, observer: RecordingObserver
) -> None:
    cache.keys_for("rsa-1")
    provider.down = True
    clock.advance(TTL)
    assert kids(cache.keys_for("rsa-1")) == ["rsa-1"]
    clock.advance(MAX_STALE - 1)
    assert kids(cache.keys_for("rsa-1")) == ["rsa-1"]
    clock.advance(1)
    with pytest.raises(VerificationUnavailable):
        cache.keys_for("rsa-1")
    assert ("failed", ISSUER, "connection refused", "True") in observer.events


def test_a_failed_fetch_is_retried_only_after_the_cooldown(
    cache: JwksCache, provider: FakeProvider, clock: FakeClock
) -> None:
    cache.keys_for("rsa-1")
    provider.down = True
    clock.advance(TTL)
    for _ in range(20):
        cache.keys_for("rsa-1")
    assert provider.fetches == 2
    clock.advance(COOLDOWN)
    provider.down = False
    cache.keys_for("rsa-1")
    assert provider.fetches == 3
    clock.advance(TTL - 1)
    cache.keys_for("rsa-1")
    assert provider.fetches == 3  # the recovered keys got a full TTL


def test_a_cold_start_during_an_outage_fails_closed_without_hammering(
    cache: JwksCache, provider: FakeProvider, clock: FakeClock
) -> None:
    provider.down = True
    for _ in range(10):
        with pytest.raises(VerificationUnavailable):
            cache.keys_for("rsa-1")
    assert provider.fetches == 1
    clock.advance(COOLDOWN)
    provider.down = False
    assert kids(cache.keys_for("rsa-1")) == ["rsa-1"]


def test_an_unknown_kid_during_an_outage_is_rejected_while_known_keys_keep_working(
    cache: JwksCache, provider: FakeProvider
) -> None:
    cache.keys_for("rsa-1")
    provider.down = True
    with pytest.raises(TokenRejected):
        cache.keys_for("rotated-away")
    assert kids(cache.keys_for("rsa-1")) == ["rsa-1"]


def test_reset_forgets_keys_and_timers(cache: JwksCache, provider: FakeProvider) -> None:
    cache.keys_for("rsa-1")
    cache.reset()
    cache.keys_for("rsa-1")
    assert provider.fetches == 2


def test_concurrent_cold_start_requests_share_one_fetch(cache: JwksCache, provider: FakeProvider) -> None:
    barrier = threading.Barrier(16)
    results: list[list[str]] = []

    def lookup() -> None:
        barrier.wait()
        results.append(kids(cache.keys_for("rsa-1")))

    threads = [threading.Thread(target=lookup) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [["rsa-1"]] * 16
    assert provider.fetches == 1


def test_each_set_of_keys_loaded_is_a_new_key_epoch_live_for_its_cache_period(
    cache: JwksCache, provider: FakeProvider, rotated_rsa_key: SigningKey, clock: FakeClock
) -> None:
    keys = cache.keys_for("rsa-1")
    first = cache.epoch_of("rsa-1", keys)
    assert first is not None
    assert cache.is_current(first)
    # An unknown kid refetches: new keys, a new epoch, and the old one is over at once.
    provider.keys = (*provider.keys, rotated_rsa_key)
    cache.keys_for("rsa-2")
    assert not cache.is_current(first)
    assert cache.epoch_of("rsa-1", keys) is None  # `keys` are from the old epoch
    second = cache.epoch_of("rsa-1", cache.keys_for("rsa-1"))
    assert second is not None
    assert second != first
    assert cache.is_current(second)
    clock.advance(TTL)
    assert not cache.is_current(second)  # past its cache period, before any refresh


def test_an_epoch_from_before_a_reset_is_never_current_again(cache: JwksCache) -> None:
    before = cache.epoch_of("rsa-1", cache.keys_for("rsa-1"))
    cache.reset()
    after = cache.epoch_of("rsa-1", cache.keys_for("rsa-1"))

    assert before is not None
    assert after is not None
    assert after != before
    assert not cache.is_current(before)
    assert not cache.is_current(None)
