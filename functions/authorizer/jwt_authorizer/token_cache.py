"""A bounded in-memory cache of verified tokens, so a repeated token skips the signature check.

API Gateway's own result cache is per API and per stage, and often off; this one sits behind it, inside
the warm function. What it keeps and for how long:

- Keyed by the BLAKE2b-256 digest of the whole Authorization value: the raw token is never held, and a
  hit means this exact string was accepted before, so the strict parsing it passed then still holds.
- Only successes are stored, after every check passed; a rejection is checked in full every time.
- An entry never outlives the token's `exp` (the leeway is not granted twice), nor the JWKS snapshot the
  token was verified against (its key epoch): any refresh of the issuer's keys (expiry, rotation, a
  removed kid) ends it, and so does the end of those keys' cache period.
- It stores what the token is (subject, scopes, the routes its scopes deny, the context), never a
  policy: the policy is written for the API and stage of each call.
- At most `max_entries` entries; the oldest goes first. `max_entries=0` turns the cache off.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from route_table import Route

from .compact import MAX_AUTHORIZATION_LENGTH
from .dpop import UNBOUND, Confirmation

Context = dict[str, str | int | float | bool]


class KeyEpochs(Protocol):
    def is_current(self, epoch: int | None) -> bool:
        """True while `epoch` is the issuer's live key epoch, within its cache period."""


class CachedToken:
    """What a verified token decides, independent of the route and stage it is presented to."""

    __slots__ = (
        "confirmation",
        "context",
        "denied",
        "expires_at",
        "issuer",
        "key_epoch",
        "principal_id",
        "scopes",
    )

    def __init__(
        self,
        principal_id: str,
        scopes: frozenset[str],
        denied: tuple[Route, ...],
        context: Context,
        expires_at: float,
        issuer: str,
        key_epoch: int | None,
        confirmation: Confirmation = UNBOUND,
    ) -> None:
        self.principal_id = principal_id
        self.scopes = scopes
        self.denied = denied
        self.context = context
        self.expires_at = expires_at
        self.issuer = issuer
        self.key_epoch = key_epoch
        #: The key or certificate the token is bound to (`cnf`), checked again on every call.
        self.confirmation = confirmation


class VerifiedTokenCache:
    def __init__(
        self, max_entries: int, key_epochs: Mapping[str, KeyEpochs], now: Callable[[], float] = time.time
    ) -> None:
        """`key_epochs`: each trusted issuer's keys, asked whether an entry's epoch is still live."""
        self.max_entries = max_entries
        self._key_epochs = key_epochs
        self._now = now
        self._entries: dict[bytes, CachedToken] = {}
        # Writers take the lock; the hit path is one dict read, atomic under the GIL.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, authorization: object) -> tuple[CachedToken | None, bytes | None]:
        """The live entry for this Authorization value, if any, and its key for `put` (None: uncacheable)."""
        # A bearer token is ASCII and bounded; anything else is left to the parser to reject.
        if (
            not self.max_entries
            or type(authorization) is not str
            or len(authorization) > MAX_AUTHORIZATION_LENGTH
            or not authorization.isascii()
        ):
            return None, None
        # BLAKE2b (Python's own C code): measured faster than OpenSSL's SHA-256 right after a signature check.
        key = hashlib.blake2b(authorization.encode("ascii"), digest_size=32).digest()
        entry = self._entries.get(key)
        if entry is None:
            return None, key
        if self._now() < entry.expires_at and self._key_epochs[entry.issuer].is_current(entry.key_epoch):
            return entry, key
        with self._lock:
            self._entries.pop(key, None)
        return None, key

    def put(self, key: bytes | None, entry: CachedToken) -> None:
        """Remember a verified token under the key `lookup` gave for it."""
        if key is None or entry.key_epoch is None or entry.issuer not in self._key_epochs:
            return
        with self._lock:
            while len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]  # the oldest: dicts keep insertion order
            self._entries[key] = entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
