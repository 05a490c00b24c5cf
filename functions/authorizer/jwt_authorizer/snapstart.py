"""Lambda SnapStart (opt-in, the template's EnableSnapStart parameter): the authorizer's runtime hooks.

With SnapStart, Lambda runs the init once, when a version is published, snapshots the environment's
memory, and starts every new environment by restoring that snapshot instead of running the init again.
Around it, the authorizer:

- before the snapshot, makes sure every issuer's keys are fetched and parsed (the init's prefetch is
  waited for, or the keys are loaded now), and closes its pooled connections: the snapshot holds keys,
  and no socket that would be dead after a restore;
- after each restore, moves the key caches onto the new environment's clock. The monotonic clock of the
  host that took the snapshot means nothing after a restore, so every stored time is re-based by the wall
  clock: keys older than the cache period are expired (and still bounded by the maximum staleness), the
  cooldowns start afresh, the verified-token cache is emptied, and the allow-count timer restarts.
  Expired keys are refreshed in the background at once (JWKS_PREFETCH), as at an init: a snapshot usually
  outlives the cache period, and the first request should not wait for the provider if it can help it.

Nothing unique is created at init (no secret, no random value) that every restored copy would share.
The hooks are registered with snapshot-restore-py, which Lambda's Python runtimes include; where it is not
installed (tests without it, the local stack) there is nothing to register and nothing runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .jwks import HttpJsonFetcher, JwksCache
from .telemetry import Telemetry
from .token_cache import VerifiedTokenCache


def before_snapshot(caches: Iterable[JwksCache], fetcher: HttpJsonFetcher | None) -> None:
    for cache in caches:
        cache.before_snapshot()
    if fetcher is not None:
        fetcher.close()


def after_restore(
    caches: Iterable[JwksCache], token_cache: VerifiedTokenCache, telemetry: Telemetry, prefetch: bool
) -> None:
    for cache in caches:
        cache.after_restore()
        if prefetch:
            cache.prefetch()  # keys past their cache period: refreshed while the first event comes in
    token_cache.clear()
    telemetry.flush_allowed()  # restarts the once-a-minute timer on this environment's clock


def register(before: Callable[[], None], after: Callable[[], None]) -> bool:
    """Register the two hooks with the runtime; False where snapshot-restore-py is not installed."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    register_before_snapshot(before)
    register_after_restore(after)
    return True
