"""The init-phase prefetch of a JWKS cache, on a fake clock: one load, waited for, never doubled."""

from __future__ import annotations

import threading

import pytest

from devkit.clock import FakeClock
from devkit.tokens import SigningKey, jwks_of
from jwt_authorizer import (
    DeferredObserver,
    JwksCache,
    JwksFetchError,
    ParsedJwks,
    VerificationUnavailable,
    parse_jwks,
)

ISSUER = "https://issuer.example.com"
TTL, COOLDOWN, MAX_STALE = 600, 30, 3600
#: Bound on every wait below, so a broken prefetch fails the test instead of hanging it.
WAIT = 10.0


class GatedProvider:
    """Serves a JWKS when the test opens the gate; counts loads; can fail or crash instead."""

    def __init__(self, key: SigningKey) -> None:
        self.key = key
        self.loads = 0
        self.started = threading.Event()
        self.gate = threading.Event()
        self.gate.set()
        self.failure: Exception | None = None

    def __call__(self) -> ParsedJwks:
        self.loads += 1
        self.started.set()
        assert self.gate.wait(WAIT)
        if self.failure is not None:
            raise self.failure
        return parse_jwks(jwks_of(self.key), frozenset({"RS256"}))


def make_cache(
    provider: GatedProvider, clock: FakeClock, observer: DeferredObserver | None = None
) -> JwksCache:
    return JwksCache(
        provider, ISSUER, ttl=TTL, cooldown=COOLDOWN, max_stale=MAX_STALE, clock=clock, observer=observer
    )


class RecordingObserver:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def jwks_fetched(self, issuer: str, key_count: int, skipped: tuple[str, ...], reason: str) -> None:
        self.events.append(("fetched", reason))

    def jwks_fetch_failed(self, issuer: str, error: str, serving_stale: bool) -> None:
        self.events.append(("failed", error))


def test_a_request_during_the_prefetch_waits_for_it_and_fetches_nothing_itself(
    rsa_signing_key: SigningKey, clock: FakeClock
) -> None:
    # Given a prefetch whose provider has not answered yet
    provider = GatedProvider(rsa_signing_key)
    provider.gate.clear()
    cache = make_cache(provider, clock)
    thread = cache.prefetch()
    assert thread is not None
    assert provider.started.wait(WAIT)
    # When a request asks for the key meanwhile, and the provider then answers
    found: list[object] = []
    request = threading.Thread(target=lambda: found.append(cache.keys_for(rsa_signing_key.kid)))
    request.start()
    provider.gate.set()
    request.join(WAIT)
    thread.join(WAIT)
    # Then the request got the prefetched key, and the provider was asked once
    assert [key.kid for key in found[0]] == [rsa_signing_key.kid]  # type: ignore[attr-defined]
    assert provider.loads == 1
    assert cache.fetch_count == 1


def test_a_request_after_the_prefetch_uses_its_keys(rsa_signing_key: SigningKey, clock: FakeClock) -> None:
    provider = GatedProvider(rsa_signing_key)
    cache = make_cache(provider, clock)
    thread = cache.prefetch()
    assert thread is not None
    thread.join(WAIT)

    cache.keys_for(rsa_signing_key.kid)

    assert provider.loads == 1


def test_a_failed_prefetch_leaves_the_cache_empty_and_counts_against_the_cooldown(
    rsa_signing_key: SigningKey, clock: FakeClock
) -> None:
    provider = GatedProvider(rsa_signing_key)
    provider.failure = JwksFetchError("connection refused")
    cache = make_cache(provider, clock)
    thread = cache.prefetch()
    assert thread is not None
    thread.join(WAIT)

    # Within the cooldown the request fails closed without asking the provider again, as after any
    # failed fetch.
    with pytest.raises(VerificationUnavailable, match="no keys could be fetched yet"):
        cache.keys_for(rsa_signing_key.kid)
    assert provider.loads == 1
    # After it, the request path fetches.
    provider.failure = None
    clock.advance(COOLDOWN)
    assert cache.keys_for(rsa_signing_key.kid)
    assert provider.loads == 2


def test_a_prefetch_that_crashes_frees_the_cache_for_the_request_path(
    rsa_signing_key: SigningKey, clock: FakeClock
) -> None:
    provider = GatedProvider(rsa_signing_key)
    provider.failure = RuntimeError("a bug in a loader")
    cache = make_cache(provider, clock)
    thread = cache.prefetch()
    assert thread is not None
    thread.join(WAIT)

    provider.failure = None
    assert cache.keys_for(rsa_signing_key.kid)
    assert provider.loads == 2


def test_a_second_prefetch_while_one_is_under_way_starts_nothing(
    rsa_signing_key: SigningKey, clock: FakeClock
) -> None:
    provider = GatedProvider(rsa_signing_key)
    provider.gate.clear()
    cache = make_cache(provider, clock)
    first = cache.prefetch()
    assert first is not None
    assert provider.started.wait(WAIT)

    assert cache.prefetch() is None

    provider.gate.set()
    first.join(WAIT)
    assert provider.loads == 1


def test_a_prefetch_of_a_filled_cache_loads_nothing(rsa_signing_key: SigningKey, clock: FakeClock) -> None:
    provider = GatedProvider(rsa_signing_key)
    cache = make_cache(provider, clock)
    cache.keys_for(rsa_signing_key.kid)

    thread = cache.prefetch()
    assert thread is not None
    thread.join(WAIT)

    assert provider.loads == 1


def test_a_prefetch_of_expired_keys_refreshes_them_and_keeps_them_if_it_fails(
    rsa_signing_key: SigningKey, clock: FakeClock
) -> None:
    provider = GatedProvider(rsa_signing_key)
    cache = make_cache(provider, clock)
    cache.keys_for(rsa_signing_key.kid)
    clock.advance(TTL)
    provider.failure = JwksFetchError("HTTP 503")

    thread = cache.prefetch()
    assert thread is not None
    thread.join(WAIT)

    assert provider.loads == 2
    assert cache.keys_for(rsa_signing_key.kid)  # the stale keys, within the maximum staleness
    assert provider.loads == 2  # and no second try within the cooldown


def test_reports_made_before_the_observer_exists_reach_it_in_order(
    rsa_signing_key: SigningKey, clock: FakeClock
) -> None:
    # Given a cache that reports to a deferred observer, and a prefetch that finishes before the logger
    # exists
    reports = DeferredObserver()
    provider = GatedProvider(rsa_signing_key)
    cache = make_cache(provider, clock, reports)
    thread = cache.prefetch()
    assert thread is not None
    thread.join(WAIT)
    # When the real observer is attached, and later fetches happen
    observer = RecordingObserver()
    reports.attach(observer)
    clock.advance(TTL)
    provider.failure = JwksFetchError("HTTP 503")
    cache.keys_for(rsa_signing_key.kid)  # expired: a failed refresh, the stale keys served
    # Then it saw everything, in order
    assert observer.events == [("fetched", "prefetch"), ("failed", "HTTP 503")]
