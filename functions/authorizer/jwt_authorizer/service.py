"""The authorizer pipeline: from a neutral request to a decision, or one of the two failure families.

It knows no event shape (events.py adapts those) and no place it runs in: it raises `TokenRejected` for
a token that is not acceptable and `VerificationUnavailable` for one that could not be checked, and the
adapter at the edge says what each means to the caller.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from route_table import Route, first_match

from .config import Settings
from .dpop import clear_caches as clear_dpop_caches
from .dpop import confirmation_of
from .errors import TokenRejected
from .jwks import JwksCache
from .method_arn import MethodArn
from .policy import build_context, build_policy
from .request import AccessRequest, Decision
from .scopes import granted_scopes, scopes_of
from .sender import SenderConstraint
from .telemetry import Telemetry
from .token_cache import CachedToken, VerifiedTokenCache
from .verify import TokenVerifier, VerifiedToken


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        telemetry: Telemetry,
        caches: Mapping[str, JwksCache],
        now: Callable[[], float] = time.time,
        verifier: TokenVerifier | None = None,
        sender: SenderConstraint | None = None,
    ) -> None:
        """`verifier` defaults to the one the settings describe, over `caches`, on the clock `now`;
        `sender` to the DPoP mode the settings name (its replay store on DPOP_REPLAY_TABLE)."""
        self._telemetry = telemetry
        self._verifier = verifier or TokenVerifier(settings, caches, now=now)
        self._routes = settings.routes
        self._scope_claims = settings.scope_claims
        self.token_cache = VerifiedTokenCache(settings.verified_token_cache_size, caches, now=now)
        self.sender = sender or SenderConstraint(settings.sender, now=now)

    @property
    def verifier(self) -> TokenVerifier:
        return self._verifier

    def decide(self, request: AccessRequest) -> Decision:
        """The decision for one call; raises TokenRejected or VerificationUnavailable.

        In order: find the token among those verified before, or verify it and decide what it may do;
        check what the call proves beyond its token (sender.py: its DPoP proof, its client certificate, or
        that a bound token did not come as a bearer token); count the decision for this call's route;
        answer with the policy for the call's stage.
        """
        decided, key = self.token_cache.lookup(request.credential)
        if decided is None:
            decided = self._decide(self._verifier.verify(self.sender.token_of(request.credential)))
            self.token_cache.put(key, decided)
        self.sender.check(request, decided.confirmation)
        denied_route = self._count(request.method_arn, decided)
        return Decision(
            decided.principal_id,
            build_policy(request.method_arn, decided.denied),
            dict(decided.context),  # a copy: the cached one is never handed out
            denied_route,
        )

    def _decide(self, verified: VerifiedToken) -> CachedToken:
        """What a verified token may do, whatever route and stage it comes to: kept while it is valid."""
        claims = verified.claims
        try:
            # The context's scopes are the names the routes were checked against, so the functions
            # behind the authorizer, reading the same ROUTE_SCOPES, come to the same answer.
            scopes = granted_scopes(claims, scopes_of(claims), self._scope_claims)
            context = build_context(claims, scopes)
            confirmation = confirmation_of(claims)
        except TokenRejected as rejection:
            rejection.fields = {"kid": verified.kid, "iss": verified.issuer, "sub": verified.subject}
            raise
        return CachedToken(
            principal_id=verified.subject,
            scopes=scopes,
            denied=self._routes.denied(scopes),
            context=context,
            expires_at=claims["exp"],
            issuer=verified.issuer,
            key_epoch=verified.key_epoch,
            confirmation=confirmation,
        )

    def _count(self, method_arn: MethodArn, decided: CachedToken) -> Route | None:
        """Count the decision for the route this call is for; the route when the token is denied it."""
        denied = decided.denied
        route = first_match(denied, method_arn.method, method_arn.request_path) if denied else None
        if route is None:
            self._telemetry.allowed()
            return None
        missing = sorted(route.scopes - decided.scopes)
        self._telemetry.route_denied(method_arn.route, decided.principal_id, missing)
        return route

    def reset(self) -> None:
        self.token_cache.clear()
        clear_dpop_caches()
