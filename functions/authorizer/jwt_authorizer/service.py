"""The authorizer pipeline and its single error boundary."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from route_table import first_match

from .config import Settings
from .dpop import clear_caches as clear_dpop_caches
from .dpop import confirmation_of
from .errors import Reason, TokenRejected, VerificationUnavailable
from .jwks import HttpJsonFetcher, JsonFetcher, JwksCache, build_caches
from .method_arn import MethodArn
from .policy import build_context, build_policy
from .request_event import RestRequest, read_request_event
from .sam_cli import policy_for_this_call, refusal
from .scopes import granted_scopes, scopes_of
from .sender import SenderConstraint
from .telemetry import Telemetry
from .token_cache import CachedToken, VerifiedTokenCache
from .verify import TokenVerifier, VerifiedToken

#: The only error text API Gateway turns into 401; anything else a TOKEN authorizer raises becomes 5xx.
UNAUTHORIZED = "Unauthorized"


class AuthorizerUnavailableError(Exception):
    """Raised to API Gateway when the token could not be checked: it answers 5xx, never 401 or Allow."""


class AuthorizerService:
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
        self.settings = settings
        self.caches = caches
        self._telemetry = telemetry
        self._verifier = verifier or TokenVerifier(settings, caches, now=now)
        self._routes = settings.routes
        self._scope_claims = settings.scope_claims
        self.token_cache = VerifiedTokenCache(settings.verified_token_cache_size, caches, now=now)
        self._sam_local = settings.sam_local
        self.sender = sender or SenderConstraint(settings.sender, now=now)
        self._request_events = settings.sender.request_events

    @classmethod
    def create(
        cls,
        settings: Settings,
        telemetry: Telemetry,
        fetcher: JsonFetcher | None = None,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
    ) -> AuthorizerService:
        fetcher = fetcher or HttpJsonFetcher(clock=clock)
        return cls(settings, telemetry, build_caches(settings, fetcher, telemetry, clock), now=now)

    @property
    def telemetry(self) -> Telemetry:
        return self._telemetry

    def handle(self, event: object) -> dict[str, Any]:
        """Answer API Gateway: the authorizer result, `Unauthorized` (401) or an unavailable error (5xx)."""
        try:
            return self.authorize(event)
        except TokenRejected as rejection:
            self._telemetry.rejected(rejection.reason, _rejection_fields(rejection), _route_of(event))
            if self._sam_local:
                return refusal()  # the SAM CLI shows any raised error as 502 (sam_cli.py)
            raise Exception(UNAUTHORIZED) from None  # noqa: TRY002 - API Gateway matches this exact text
        except VerificationUnavailable as failure:
            self._telemetry.unavailable(failure.issuer, failure.detail, _route_of(event))
            raise AuthorizerUnavailableError("the token could not be checked") from None
        except Exception:
            self._telemetry.internal_error(_route_of(event))
            raise AuthorizerUnavailableError("the token could not be checked") from None

    def authorize(self, event: object) -> dict[str, Any]:
        """The authorizer result for a TOKEN event (or, in DPoP modes, a REQUEST event); raises
        TokenRejected or VerificationUnavailable.

        The pipeline, in order: read the event; find the token among those verified before, or verify it
        and decide what it may do; check what the call proves beyond its token (sender.py: the DPoP proof,
        the client certificate, or that a bound token did not come as a bearer token); count the decision
        for this call's route; answer with the policy.
        """
        request: RestRequest | None = None
        if self._request_events:
            request = read_request_event(event)
            method_arn, authorization = request.method_arn, request.authorization
        else:
            method_arn, authorization = read_event(event)
        decided, key = self.token_cache.lookup(authorization)
        if decided is None:
            decided = self._decide(self._verifier.verify(self.sender.token_of(authorization)))
            self.token_cache.put(key, decided)
        assert isinstance(authorization, str)  # noqa: S101 - token_of accepted it, now or when it was cached
        self.sender.check(authorization, decided.confirmation, request)
        this_route_denied = self._count(method_arn, decided)
        return self._answer(method_arn, decided, this_route_denied)

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

    def _count(self, method_arn: MethodArn, decided: CachedToken) -> bool:
        """Count the decision for the route this call is for; True when the token is denied that route."""
        denied = decided.denied
        route = first_match(denied, method_arn.method, method_arn.request_path) if denied else None
        if route is None:
            self._telemetry.allowed()
            return False
        missing = sorted(route.scopes - decided.scopes)
        self._telemetry.route_denied(method_arn.route, decided.principal_id, missing)
        return True

    def _answer(self, method_arn: MethodArn, decided: CachedToken, this_route_denied: bool) -> dict[str, Any]:
        policy = build_policy(method_arn, decided.denied)
        if self._sam_local:
            policy = policy_for_this_call(policy, this_route_denied)  # it ignores Deny (sam_cli.py)
        return {
            "principalId": decided.principal_id,
            "policyDocument": policy,
            "context": dict(decided.context),  # a copy: the cached one is never handed out
        }

    def reset(self) -> None:
        for cache in self.caches.values():
            cache.reset()
        self.token_cache.clear()
        clear_dpop_caches()


def read_event(event: object) -> tuple[MethodArn, object]:
    """The call's method ARN and its Authorization value (unread: the token parser or cache reads it)."""
    if not isinstance(event, dict):
        raise TokenRejected(Reason.MALFORMED_EVENT, "the event is not an object")
    return MethodArn.parse(event.get("methodArn")), event.get("authorizationToken")


def _route_of(event: object) -> str | None:
    if isinstance(event, dict):  # a TOKEN or a REQUEST event: both carry the methodArn
        try:
            return MethodArn.parse(event.get("methodArn")).route
        except TokenRejected:
            return None
    return None


def _rejection_fields(rejection: TokenRejected) -> dict[str, object]:
    return {"detail": rejection.detail} | rejection.fields
