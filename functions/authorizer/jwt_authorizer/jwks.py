"""One JWKS cache per trusted issuer, living across invocations of a warm Lambda.

- Filled on first use from OIDC discovery (or a configured JWKS URI) and kept for `ttl` seconds.
- A `kid` we do not know triggers one refetch at once (key rotation); after that, such refetches happen at
  most once per `cooldown`, so a flood of random kids cannot hammer the provider.
- A failed refresh keeps the last good keys for up to `max_stale` seconds past their TTL, then fails
  closed. After a failed fetch the next attempt waits `cooldown` too.
- A successful refresh replaces the keys: a kid the provider removed stops working. Each set of keys
  loaded is a new key epoch, a number; a result verified with the keys carries their epoch, so whatever
  keeps that result can ask whether the keys it was verified with are still the live ones.
- `prefetch` starts loading the keys in the background at init, so the network wait overlaps the rest of
  the cold start; a request that comes meanwhile waits for that load instead of starting its own.
- `before_snapshot` and `after_restore` carry the cache across a Lambda SnapStart snapshot (snapstart.py).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import requests
from urllib3.exceptions import HTTPError as TransportError

from .errors import JwksFetchError, Reason, TokenRejected, VerificationUnavailable
from .urls import learned_url_problem, origins_of, url_form_problem

if TYPE_CHECKING:
    from .config import Settings
    from .keys import KeySet, ParsedJwks, VerificationKey

#: HTTP API's own JWT authorizer caps a JWKS at 150,000 bytes; discovery documents are far smaller.
MAX_DOCUMENT_BYTES = 150_000
CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 1.5
#: Budget for one refresh (discovery + JWKS), so a slow provider cannot hold a request for long.
REFRESH_BUDGET_SECONDS = 2.5

Clock = Callable[[], float]


#: What a cache loads its keys with: the issuer's keys, parsed, with the ones skipped; JwksFetchError if
#: they could not be fetched.
KeyLoader = Callable[[], "ParsedJwks"]


class JsonFetcher(Protocol):
    def get_json(self, url: str, deadline: float) -> Any:
        """GET `url` and return its JSON body; raise JwksFetchError on any failure."""


class HttpJsonFetcher:
    """GET small JSON documents with `requests`: bounded in time and size, no redirects."""

    def __init__(
        self,
        session: requests.Session | None = None,
        clock: Clock = time.monotonic,
        max_bytes: int = MAX_DOCUMENT_BYTES,
    ) -> None:
        self._session = session or requests.Session()
        self._clock = clock
        self._max_bytes = max_bytes

    def close(self) -> None:
        """Drop the pooled connections (the session stays usable): none may outlive a snapshot."""
        self._session.close()

    def get_json(self, url: str, deadline: float) -> Any:
        # Whether this URL may be fetched was decided before it got here: configured URLs at cold start,
        # a discovered one by the loader (urls.py).
        problem = url_form_problem(url)
        if problem:
            raise JwksFetchError(f"refusing to fetch {url!r}: it {problem}")
        remaining = deadline - self._clock()
        if remaining <= 0:
            raise JwksFetchError(f"no time left to fetch {url}")
        try:
            with self._session.get(
                url,
                timeout=(min(CONNECT_TIMEOUT_SECONDS, remaining), min(READ_TIMEOUT_SECONDS, remaining)),
                allow_redirects=False,
                stream=True,
                headers={"Accept": "application/json", "Accept-Encoding": "identity"},
            ) as response:
                if response.status_code != 200:
                    raise JwksFetchError(f"{url} answered HTTP {response.status_code}")
                body = self._read_bounded(response, url, deadline)
        except (requests.RequestException, TransportError) as error:
            # The body is read from urllib3 directly, whose errors (a read timeout between two chunks, a
            # connection cut before Content-Length) requests does not wrap.
            raise JwksFetchError(f"{url} could not be fetched ({type(error).__name__})") from None
        try:
            return json.loads(body)
        except (ValueError, RecursionError):  # nesting deeper than the parser's recursion limit
            raise JwksFetchError(f"{url} did not return valid JSON") from None

    def _read_bounded(self, response: requests.Response, url: str, deadline: float) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise JwksFetchError(f"{url} sent {declared} bytes, over the {self._max_bytes} limit")
        if response.headers.get("Content-Encoding", "identity").lower() != "identity":
            raise JwksFetchError(f"{url} sent an encoded body although identity was asked for")
        body = bytearray()
        raw = response.raw
        while True:
            # read1 returns what one socket read gives, so the deadline is checked even on a slow drip.
            chunk = raw.read1(16_384) if hasattr(raw, "read1") else raw.read(16_384)
            if not chunk:
                return bytes(body)
            body += chunk
            if len(body) > self._max_bytes:
                raise JwksFetchError(f"{url} sent more than the {self._max_bytes}-byte limit")
            if self._clock() > deadline:
                raise JwksFetchError(f"{url} was too slow to send its document")


class JwksLoader:
    """Fetch and parse an issuer's keys: discovery (once) to find the JWKS URI, then the JWKS.

    The issuer and `jwks_uri` are configured (checked at cold start); a JWKS URI learned from discovery is
    checked here before it is fetched: https to a public destination, or on a configured URL's origin.
    """

    def __init__(
        self,
        issuer: str,
        fetcher: JsonFetcher,
        allowed_algorithms: frozenset[str],
        jwks_uri: str | None = None,
        clock: Clock = time.monotonic,
        budget_seconds: float = REFRESH_BUDGET_SECONDS,
    ) -> None:
        self.issuer = issuer
        self._fetcher = fetcher
        self._allowed_algorithms = allowed_algorithms
        self._jwks_uri = jwks_uri
        self._configured_origins = origins_of((issuer, jwks_uri))
        self._clock = clock
        self._budget_seconds = budget_seconds

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"

    def __call__(self) -> ParsedJwks:
        deadline = self._clock() + self._budget_seconds
        jwks_uri = self._jwks_uri or self._discover(deadline)
        document = self._fetcher.get_json(jwks_uri, deadline)
        # Imported here, not at the top: the parser needs PyJWT and cryptography, which the init imports
        # while the prefetch's request is on the wire; imported with this module, they would delay it.
        from .keys import parse_jwks

        parsed = parse_jwks(document, self._allowed_algorithms)
        self._jwks_uri = jwks_uri  # discovery once: the JWKS URI is kept once it gave usable keys
        return parsed

    def _discover(self, deadline: float) -> str:
        document = self._fetcher.get_json(self.discovery_url, deadline)
        if not isinstance(document, dict):
            raise JwksFetchError("the discovery document is not a JSON object")
        if document.get("issuer") != self.issuer:
            # OpenID Connect Discovery 1.0, section 4.3: the issuer must match exactly.
            raise JwksFetchError(
                f"the discovery document names issuer {str(document.get('issuer'))[:200]!r}, "
                f"not {self.issuer!r}"
            )
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise JwksFetchError("the discovery document has no 'jwks_uri'")
        problem = learned_url_problem(jwks_uri, self._configured_origins)
        if problem:
            raise JwksFetchError(
                f"refusing the discovery document's jwks_uri {jwks_uri[:200]!r}: it {problem}"
            )
        return jwks_uri


class JwksObserver(Protocol):
    def jwks_fetched(self, issuer: str, key_count: int, skipped: tuple[str, ...], reason: str) -> None: ...

    def jwks_fetch_failed(self, issuer: str, error: str, serving_stale: bool) -> None: ...


class _SilentObserver:
    def jwks_fetched(self, issuer: str, key_count: int, skipped: tuple[str, ...], reason: str) -> None:
        pass

    def jwks_fetch_failed(self, issuer: str, error: str, serving_stale: bool) -> None:
        pass


class DeferredObserver:
    """Holds what the caches report until the real observer is attached, then passes everything on.

    The keys are prefetched before the logger exists (building it is part of the init they overlap), so a
    fetch that finishes first is reported, in order, when the logger is attached.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._observer: JwksObserver | None = None
        self._pending: list[Callable[[JwksObserver], None]] = []

    def attach(self, observer: JwksObserver) -> None:
        with self._lock:
            self._observer = observer
            pending, self._pending = self._pending, []
            for report in pending:
                report(observer)

    def jwks_fetched(self, issuer: str, key_count: int, skipped: tuple[str, ...], reason: str) -> None:
        self._report(lambda observer: observer.jwks_fetched(issuer, key_count, skipped, reason))

    def jwks_fetch_failed(self, issuer: str, error: str, serving_stale: bool) -> None:
        self._report(lambda observer: observer.jwks_fetch_failed(issuer, error, serving_stale))

    def _report(self, report: Callable[[JwksObserver], None]) -> None:
        with self._lock:
            if self._observer is None:
                self._pending.append(report)
            else:
                report(self._observer)


@dataclass(frozen=True)
class _Snapshot:
    keys: KeySet
    fetched_at: float  # on the cache's (monotonic) clock
    epoch: int
    #: The wall-clock time of the fetch: the one clock that still means something after a SnapStart restore.
    fetched_at_wall: float


class JwksCache:
    def __init__(
        self,
        loader: KeyLoader,
        issuer: str,
        *,
        ttl: float,
        cooldown: float,
        max_stale: float,
        clock: Clock = time.monotonic,
        observer: JwksObserver | None = None,
        wall_clock: Clock = time.time,
    ) -> None:
        self.issuer = issuer
        self._load = loader
        self._wall_clock = wall_clock
        self._ttl = ttl
        self._cooldown = cooldown
        self._max_stale = max_stale
        self._clock = clock
        self._observer: JwksObserver = observer or _SilentObserver()
        self._lock = threading.Lock()
        #: Counts the key sets loaded since the process started; never reset, so an epoch handed out
        #: before a reset can never match one handed out after it.
        self._epochs = 0
        self.reset()

    def reset(self) -> None:
        """Forget every key and timer, as a cold start would."""
        self._snapshot: _Snapshot | None = None
        self._last_failure_at: float | None = None
        self._last_unknown_kid_refetch_at: float | None = None
        self.fetch_count = 0

    def epoch_of(self, kid: str, keys: tuple[VerificationKey, ...]) -> int | None:
        """The live key epoch, if its keys for `kid` are exactly `keys`.

        None when a refresh replaced the keys since `keys` were handed out.
        """
        snapshot = self._snapshot
        return snapshot.epoch if snapshot is not None and snapshot.keys.get(kid) is keys else None

    def is_current(self, epoch: int | None) -> bool:
        """True while `epoch` is still the live key epoch and within its cache period.

        The verified-token cache ties its entries to this: a refresh of any kind ends them.
        """
        snapshot = self._snapshot
        return (
            snapshot is not None
            and snapshot.epoch == epoch
            and self._clock() - snapshot.fetched_at < self._ttl
        )

    def prefetch(self) -> threading.Thread | None:
        """Start loading the keys in a background thread, unless fresh ones are cached; None when nothing
        was started.

        The cache's lock is taken here and released by the thread when the load is done, so a request
        that needs keys meanwhile waits for this load, never starts a second one. The load is a refresh
        like any other: within the refresh budget, counted against the cooldown when it fails, reported to
        the observer. Nothing it does can fail or hold up the caller: on any failure the cache is simply
        left empty, and the request path fetches or fails closed as it does without a prefetch.
        """
        if not self._lock.acquire(blocking=False):
            return None  # a load is already under way

        def load() -> None:
            try:
                snapshot, now = self._snapshot, self._clock()
                if snapshot is None or now - snapshot.fetched_at >= self._ttl:
                    self._refresh(now, "prefetch" if snapshot is None else "expired")
            except Exception:  # noqa: S110 - a bug here must not kill the thread with the lock held
                pass
            finally:
                self._lock.release()

        thread = threading.Thread(target=load, name=f"jwks-prefetch {self.issuer[:64]}", daemon=True)
        try:
            thread.start()
        except RuntimeError:  # no thread to be had: the first request fetches, as without a prefetch
            self._lock.release()
            return None
        return thread

    def before_snapshot(self) -> None:
        """Have keys in the snapshot: wait for a prefetch under way, or load them now if there are none."""
        with self._lock:
            if self._snapshot is None:
                self._last_failure_at = None  # one more try at publish time, whatever a prefetch met
                self._refresh(self._clock(), "before snapshot")

    def after_restore(self) -> None:
        """Carry the keys over a SnapStart restore, onto this environment's clock.

        The monotonic clock of the snapshot's host means nothing here, so each timer is re-based by the
        wall clock: keys keep the age they really have (keys older than the cache period are expired, and
        count against the maximum staleness as before), and the cooldowns start afresh. Keys whose age
        cannot be trusted (a wall clock that went backwards) count as expired.
        """
        with self._lock:
            snapshot = self._snapshot
            if snapshot is not None:
                age = self._wall_clock() - snapshot.fetched_at_wall
                if not 0 <= age < self._ttl:
                    age = max(age, self._ttl)
                self._snapshot = replace(snapshot, fetched_at=self._clock() - age)
            self._last_failure_at = None
            self._last_unknown_kid_refetch_at = None

    def keys_for(self, kid: str) -> tuple[VerificationKey, ...]:
        """The keys published under `kid`.

        Raises TokenRejected when no such key exists, VerificationUnavailable when no usable keys remain.
        """
        snapshot = self._snapshot
        if snapshot is not None and self._clock() - snapshot.fetched_at < self._ttl:
            found = snapshot.keys.get(kid)
            if found:
                return found
        with self._lock:
            return self._keys_for_locked(kid)

    def _keys_for_locked(self, kid: str) -> tuple[VerificationKey, ...]:
        now = self._clock()
        refreshed = False
        snapshot = self._snapshot
        if snapshot is None or now - snapshot.fetched_at >= self._ttl:
            refreshed = self._refresh(now, "expired" if snapshot else "cold start")
            snapshot = self._snapshot
            if snapshot is None:
                raise VerificationUnavailable(self.issuer, "no keys could be fetched yet")
            if now - snapshot.fetched_at >= self._ttl + self._max_stale:
                raise VerificationUnavailable(self.issuer, "cached keys are past their maximum staleness")
        found = snapshot.keys.get(kid)
        if found:
            return found
        if not refreshed and self._may_refetch_for_unknown_kid(now):
            self._last_unknown_kid_refetch_at = now
            if self._refresh(now, "unknown kid"):
                found = self._snapshot.keys.get(kid) if self._snapshot else None
                if found:
                    return found
        raise TokenRejected(Reason.UNKNOWN_KID, f"no key {kid[:64]!r} in the JWKS of {self.issuer}")

    def _may_refetch_for_unknown_kid(self, now: float) -> bool:
        last = self._last_unknown_kid_refetch_at
        return last is None or now - last >= self._cooldown

    def _refresh(self, now: float, reason: str) -> bool:
        """Try to replace the keys; on failure keep the old ones. True when new keys were loaded."""
        if self._last_failure_at is not None and now - self._last_failure_at < self._cooldown:
            return False
        self.fetch_count += 1
        try:
            parsed = self._load()
        except JwksFetchError as error:
            self._last_failure_at = now
            self._observer.jwks_fetch_failed(self.issuer, str(error), self._snapshot is not None)
            return False
        self._last_failure_at = None
        self._epochs += 1
        self._snapshot = _Snapshot(parsed.keys, now, self._epochs, self._wall_clock())
        key_count = sum(map(len, parsed.keys.values()))
        self._observer.jwks_fetched(self.issuer, key_count, parsed.skipped, reason)
        return True


def build_caches(
    settings: Settings,
    fetcher: JsonFetcher,
    observer: JwksObserver,
    clock: Clock = time.monotonic,
) -> dict[str, JwksCache]:
    """One cache per trusted issuer, as the configuration says, each loading through `fetcher`."""
    return {
        issuer: JwksCache(
            JwksLoader(issuer, fetcher, settings.algorithms, settings.jwks_uri, clock=clock),
            issuer,
            ttl=settings.jwks_cache_seconds,
            cooldown=settings.jwks_cooldown_seconds,
            max_stale=settings.jwks_max_stale_seconds,
            clock=clock,
            observer=observer,
        )
        for issuer in settings.issuers
    }
