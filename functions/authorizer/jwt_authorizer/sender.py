"""Sender-constrained tokens at the gateway: the DPoP mode, and what one call must prove beyond its token.

DPOP=off (the default): the authorizer is API Gateway's TOKEN authorizer and sees only the token. It
still refuses a token bound to a DPoP key (`cnf.jkt`, RFC 9449 section 7.1) or to a client certificate
(`cnf.x5t#S256`, RFC 8705 section 3), since it can check neither binding and such a token is not meant
to work as a bearer token.

DPOP=allowed or required: the authorizer is a REQUEST authorizer (request_event.py) and reads the scheme
of the Authorization value. `Bearer` (allowed only) is checked as before; `DPoP` needs exactly one proof
for this very call, signed by the key the token names, never seen before (dpop_replay.py). A client
certificate the token is bound to must be the one the call came with.

These checks run for every call, after the token's own verification (or its verified-token cache hit):
a proof is single-use, so nothing about it is ever cached.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from .compact import bearer_token, dpop_token
from .dpop import (
    DEFAULT_IAT_WINDOW_SECONDS,
    DEFAULT_PROOF_ALGORITHMS,
    UNBOUND,
    Confirmation,
    ProofRules,
    check_certificate_binding,
    check_key_binding,
    verify_proof,
)
from .dpop_replay import ReplayStore
from .errors import ConfigurationError, Reason, TokenRejected
from .request import AccessRequest

#: Algorithms a proof may use: asymmetric only, as for tokens (config.SUPPORTED_ALGORITHMS).
PROOF_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"}
)


class DpopMode(StrEnum):
    OFF = "off"
    ALLOWED = "allowed"
    REQUIRED = "required"


@dataclass(frozen=True)
class SenderSettings:
    """DPOP, DPOP_ALGORITHMS, DPOP_IAT_WINDOW_SECONDS, DPOP_REPLAY_TABLE; DYNAMODB_ENDPOINT_URL locally."""

    mode: DpopMode = DpopMode.OFF
    rules: ProofRules = field(default_factory=ProofRules)
    replay_table: str | None = None
    dynamodb_endpoint: str | None = None

    @property
    def request_events(self) -> bool:
        """True when the authorizer answers REQUEST events (any mode but off)."""
        return self.mode is not DpopMode.OFF

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SenderSettings:
        raw_mode = env.get("DPOP", "").strip().lower() or DpopMode.OFF.value
        try:
            mode = DpopMode(raw_mode)
        except ValueError:
            raise ConfigurationError("DPOP", f"{raw_mode!r} is not one of off, allowed, required") from None
        names = [name.strip() for name in env.get("DPOP_ALGORITHMS", "").split(",") if name.strip()]
        for name in names:
            if name not in PROOF_ALGORITHMS:
                raise ConfigurationError(
                    "DPOP_ALGORITHMS",
                    f"{name!r} is not supported; choose from {', '.join(sorted(PROOF_ALGORITHMS))}"
                    " (symmetric algorithms and 'none' are never accepted)",
                )
        window_raw = env.get("DPOP_IAT_WINDOW_SECONDS", "").strip()
        try:
            window = int(window_raw) if window_raw else DEFAULT_IAT_WINDOW_SECONDS
        except ValueError:
            raise ConfigurationError(
                "DPOP_IAT_WINDOW_SECONDS", f"{window_raw!r} is not a whole number of seconds"
            ) from None
        if not 1 <= window <= 600:
            raise ConfigurationError("DPOP_IAT_WINDOW_SECONDS", f"{window} is outside 1..600")
        table = env.get("DPOP_REPLAY_TABLE", "").strip() or None
        if mode is not DpopMode.OFF and table is None:
            raise ConfigurationError(
                "DPOP_REPLAY_TABLE", "is required when DPOP is allowed or required: the table of seen proofs"
            )
        return cls(
            mode,
            ProofRules(frozenset(names or DEFAULT_PROOF_ALGORITHMS), window),
            table,
            env.get("DYNAMODB_ENDPOINT_URL", "").strip() or None,
        )


def _is_dpop_scheme(authorization: str) -> bool:
    return authorization[:5].lower() == "dpop "


class SenderConstraint:
    def __init__(
        self,
        settings: SenderSettings,
        replay: ReplayStore | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        """`replay` is required in DPoP modes (the authorizer connects to DPOP_REPLAY_TABLE by default)."""
        if settings.request_events and replay is None:
            from .dpop_replay import DynamoDbReplayStore

            assert settings.replay_table is not None  # noqa: S101 - SenderSettings.from_env requires it
            replay = DynamoDbReplayStore.connect(settings.replay_table, settings.dynamodb_endpoint)
        self.settings = settings
        self._mode = settings.mode
        self._rules = settings.rules
        self._replay = replay
        self._now = now

    def token_of(self, authorization: object) -> str:
        """The token to verify from the Authorization value, once its scheme is one this mode takes."""
        dpop_scheme = isinstance(authorization, str) and _is_dpop_scheme(authorization)
        if dpop_scheme and self._mode is not DpopMode.OFF:
            return dpop_token(authorization)
        token = bearer_token(authorization)
        if self._mode is DpopMode.REQUIRED:
            raise TokenRejected(Reason.DPOP_REQUIRED)
        return token

    def check(self, request: AccessRequest, confirmation: Confirmation) -> None:
        """What this call must prove beyond its (verified) token; raises TokenRejected.

        `request.credential` passed `token_of`, now or when its token was cached.
        """
        if confirmation is UNBOUND and self._mode is DpopMode.OFF:
            return  # a Bearer token (token_of takes no other scheme here) bound to nothing: nothing to prove
        authorization = str(request.credential)
        if not _is_dpop_scheme(authorization):
            if self._mode is DpopMode.REQUIRED:
                raise TokenRejected(Reason.DPOP_REQUIRED)
            if confirmation.jkt is not None:
                raise TokenRejected(Reason.DPOP_BOUND_TOKEN_AS_BEARER)
            check_certificate_binding(confirmation, request.certificate_thumbprint)
            return
        if request.url is None:  # token_of takes the DPoP scheme only in the modes that read REQUEST events
            raise TokenRejected(Reason.MALFORMED_EVENT, "a DPoP token needs a REQUEST event")
        proofs = request.headers.get("dpop", "").split(",") if request.headers.get("dpop") else []
        if not proofs:
            raise TokenRejected(Reason.DPOP_MISSING_PROOF)
        if len(proofs) > 1:
            raise TokenRejected(Reason.DPOP_MULTIPLE_PROOFS, f"{len(proofs)} DPoP headers")
        proof = verify_proof(
            proofs[0].strip(),
            method=request.method,
            url=request.url,
            access_token=authorization[5:],
            now=self._now(),
            rules=self._rules,
        )
        check_key_binding(confirmation, proof)
        check_certificate_binding(confirmation, request.certificate_thumbprint)
        # Last: a call refused for any other reason never spends a write, nor marks its proof as used.
        assert self._replay is not None  # noqa: S101 - the constructor connects one in DPoP modes
        if not self._replay.first_use(proof):
            raise TokenRejected(Reason.DPOP_REPLAYED, f"jti {proof.jti[:64]!r}")
