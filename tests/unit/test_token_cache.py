"""The verified-token cache: a repeated token skips the signature check, and nothing else changes."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from devkit.clock import FakeClock
from devkit.tokens import AUDIENCE, SigningKey, claims_for, jwks_of, mint, split
from jwt_authorizer import AuthorizerService
from jwt_authorizer.config import Settings
from jwt_authorizer.errors import TokenRejected
from jwt_authorizer.jwks import JwksCache
from jwt_authorizer.keys import parse_jwks
from jwt_authorizer.telemetry import CloudWatchTelemetry, EmfMetrics
from jwt_authorizer.verify import TokenVerifier, VerifiedToken
from tests.support.policies import denied_resources

ISSUER = "https://issuer.example.com/"
NOW = 1_800_000_000.0
STAGE = "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/dev"
ROUTE_SCOPES = {"POST /messages": ["messages:write"]}
JWKS_TTL = 600


class CountingVerifier(TokenVerifier):
    """The authorizer's own verifier, counting the tokens it verifies."""

    verifications = 0

    def verify(self, token: str) -> VerifiedToken:
        self.verifications += 1
        return super().verify(token)


class Authorizer:
    """An AuthorizerService over an in-memory JWKS the test can change, with clocks it moves by hand."""

    def __init__(self, *keys: SigningKey, **env: str) -> None:
        self.wall = FakeClock(NOW)
        self.monotonic = FakeClock()
        self.document = jwks_of(*keys)
        self.fetches = 0
        settings = Settings.from_env(
            {"ISSUER": ISSUER, "AUDIENCE": AUDIENCE, "ROUTE_SCOPES": json.dumps(ROUTE_SCOPES), **env}
        )
        cache = JwksCache(self._load, ISSUER, ttl=JWKS_TTL, cooldown=30, max_stale=3600, clock=self.monotonic)
        logger = logging.getLogger("tests.token_cache")
        telemetry = CloudWatchTelemetry(logger, EmfMetrics("Tests", "tests"), clock=self.monotonic)
        self._verifier = CountingVerifier(settings, {ISSUER: cache}, now=self.wall)
        self.service = AuthorizerService(
            settings, telemetry, {ISSUER: cache}, now=self.wall, verifier=self._verifier
        )

    @property
    def verifications(self) -> int:
        return self._verifier.verifications

    def _load(self) -> Any:
        self.fetches += 1
        return parse_jwks(self.document, frozenset({"RS256"}))

    def advance(self, seconds: float) -> None:
        self.wall.advance(seconds)
        self.monotonic.advance(seconds)

    def token(self, key: SigningKey, **claims: Any) -> str:
        return mint(key, claims_for(ISSUER, now=self.wall(), **claims))

    def call(self, token: str, method_arn: str = f"{STAGE}/GET/messages") -> dict[str, Any]:
        return self.service.authorize(
            {"type": "TOKEN", "authorizationToken": f"Bearer {token}", "methodArn": method_arn}
        )

    def rejection(self, token: str) -> str:
        with pytest.raises(TokenRejected) as raised:
            self.call(token)
        return raised.value.reason


def test_a_repeated_token_is_verified_once_and_answered_the_same(rsa_signing_key: SigningKey) -> None:
    authorizer = Authorizer(rsa_signing_key)
    token = authorizer.token(rsa_signing_key)
    first = authorizer.call(token)
    assert [authorizer.call(token) for _ in range(5)] == [first] * 5
    assert authorizer.verifications == 1
    assert len(authorizer.service.token_cache) == 1


def test_an_entry_ends_at_the_tokens_exp_and_the_token_is_checked_in_full_again(
    rsa_signing_key: SigningKey,
) -> None:
    # Given a token cached 100 s before its exp
    authorizer = Authorizer(rsa_signing_key, LEEWAY_SECONDS="0")
    token = authorizer.token(rsa_signing_key, exp=int(NOW) + 100)
    authorizer.call(token)
    authorizer.advance(99.5)
    authorizer.call(token)
    assert authorizer.verifications == 1
    # When its exp arrives, the cache no longer answers: the verifier does, and rejects it
    authorizer.advance(0.5)
    assert authorizer.rejection(token) == "token_expired"
    assert authorizer.verifications == 2
    assert len(authorizer.service.token_cache) == 0


def test_the_leeway_is_not_granted_twice(rsa_signing_key: SigningKey) -> None:
    # The verifier accepts a token until exp + leeway; a cached entry never lasts past exp itself.
    authorizer = Authorizer(rsa_signing_key, LEEWAY_SECONDS="30")
    token = authorizer.token(rsa_signing_key, exp=int(NOW) + 10)
    authorizer.call(token)
    authorizer.advance(20)
    authorizer.call(token)  # within the leeway: accepted, but verified again
    authorizer.call(token)
    assert authorizer.verifications == 3


def cached_then_rotated_out(old: SigningKey, new: SigningKey) -> tuple[Authorizer, str]:
    """An authorizer that has cached a token signed with `old`, whose provider now publishes only `new`."""
    authorizer = Authorizer(old)
    token = authorizer.token(old, exp=int(NOW) + 3600)
    authorizer.call(token)
    authorizer.document = jwks_of(new)
    return authorizer, token


def test_an_entry_ends_when_its_key_leaves_the_jwks(
    rsa_signing_key: SigningKey, rotated_rsa_key: SigningKey
) -> None:
    authorizer, token = cached_then_rotated_out(rsa_signing_key, rotated_rsa_key)
    # When the first token signed with the new key makes the authorizer refetch
    authorizer.call(authorizer.token(rotated_rsa_key))
    assert authorizer.fetches == 2
    # Then the old token is no longer answered from the cache
    assert authorizer.rejection(token) == "unknown_kid"


def test_an_entry_ends_with_the_jwks_cache_period_and_a_removed_key_is_then_refused(
    rsa_signing_key: SigningKey, rotated_rsa_key: SigningKey
) -> None:
    authorizer, token = cached_then_rotated_out(rsa_signing_key, rotated_rsa_key)
    authorizer.advance(JWKS_TTL - 1)
    authorizer.call(token)  # the keys it was verified with are still the live ones
    assert (authorizer.verifications, authorizer.fetches) == (1, 1)
    authorizer.advance(1)
    assert authorizer.rejection(token) == "unknown_kid"
    assert (authorizer.verifications, authorizer.fetches) == (2, 2)


def test_an_entry_outlives_no_refresh_even_when_the_key_stays(rsa_signing_key: SigningKey) -> None:
    authorizer = Authorizer(rsa_signing_key)
    token = authorizer.token(rsa_signing_key, exp=int(NOW) + 3600)
    authorizer.call(token)
    authorizer.advance(JWKS_TTL)
    authorizer.call(token)
    authorizer.call(token)
    assert (authorizer.verifications, authorizer.fetches) == (2, 2)


def test_the_cache_is_bounded_and_lets_the_oldest_go_first(rsa_signing_key: SigningKey) -> None:
    authorizer = Authorizer(rsa_signing_key, VERIFIED_TOKEN_CACHE_SIZE="3")
    tokens = [authorizer.token(rsa_signing_key, jti=f"token-{n}") for n in range(4)]
    for token in tokens:
        authorizer.call(token)
    assert len(authorizer.service.token_cache) == 3
    for token in tokens[1:]:
        authorizer.call(token)
    assert authorizer.verifications == 4
    authorizer.call(tokens[0])
    assert authorizer.verifications == 5
    assert len(authorizer.service.token_cache) == 3


def test_the_policy_is_written_for_the_api_and_stage_of_each_call(rsa_signing_key: SigningKey) -> None:
    authorizer = Authorizer(rsa_signing_key)
    token = authorizer.token(rsa_signing_key)
    arns = [
        "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/dev/GET/messages",
        "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/messages",
        "arn:aws:execute-api:us-east-1:210987654321:zyxw987654/dev/DELETE/messages/7",
    ]
    policies = [authorizer.call(token, arn)["policyDocument"] for arn in arns]
    assert authorizer.verifications == 1
    expected = []
    for stage in (arn.rsplit("/", 2)[0] if "DELETE" not in arn else arn.rsplit("/", 3)[0] for arn in arns):
        expected.append(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": f"{stage}/*/*"},
                    {
                        "Action": "execute-api:Invoke",
                        "Effect": "Deny",
                        "Resource": denied_resources(stage, "POST/messages"),
                    },
                ],
            }
        )
    assert policies == expected


def test_a_cached_answer_cannot_be_changed_by_its_caller(rsa_signing_key: SigningKey) -> None:
    authorizer = Authorizer(rsa_signing_key)
    token = authorizer.token(rsa_signing_key)
    first = authorizer.call(token)
    expected = json.loads(json.dumps(first))
    first["context"]["sub"] = "someone-else"
    first["policyDocument"]["Statement"][0]["Effect"] = "Deny"
    first["policyDocument"]["Statement"][1]["Resource"].append("*")
    assert authorizer.call(token) == expected


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(NOW) - 3600}, "token_expired"),
        ({"aud": "api://someone-else"}, "invalid_audience"),
        ({"iss": "https://evil.example.com/"}, "untrusted_issuer"),
    ],
)
def test_a_rejected_token_is_never_cached_and_is_checked_every_time(
    rsa_signing_key: SigningKey, claims: dict[str, Any], reason: str
) -> None:
    authorizer = Authorizer(rsa_signing_key)
    token = authorizer.token(rsa_signing_key, **claims)
    assert [authorizer.rejection(token) for _ in range(3)] == [reason] * 3
    assert authorizer.verifications == 3
    assert len(authorizer.service.token_cache) == 0


def test_a_forged_signature_on_a_cached_token_is_still_refused(
    rsa_signing_key: SigningKey, rotated_rsa_key: SigningKey
) -> None:
    authorizer = Authorizer(rsa_signing_key)
    token = authorizer.token(rsa_signing_key)
    authorizer.call(token)
    header, payload, _ = split(token)
    _, _, other_signature = split(mint(rotated_rsa_key, claims_for(ISSUER, now=NOW)))
    assert authorizer.rejection(f"{header}.{payload}.{other_signature}") == "invalid_signature"


def test_the_same_token_under_a_malformed_header_is_refused(rsa_signing_key: SigningKey) -> None:
    authorizer = Authorizer(rsa_signing_key)
    token = authorizer.token(rsa_signing_key)
    authorizer.call(token)
    with pytest.raises(TokenRejected):
        authorizer.service.authorize(
            {"type": "TOKEN", "authorizationToken": f"Bearer  {token}", "methodArn": f"{STAGE}/GET/messages"}
        )


def test_the_cache_holds_digests_never_the_token(rsa_signing_key: SigningKey) -> None:
    authorizer = Authorizer(rsa_signing_key)
    token = authorizer.token(rsa_signing_key)
    authorizer.call(token)
    entry, key = authorizer.service.token_cache.lookup(f"Bearer {token}")

    assert entry is not None
    assert len(authorizer.service.token_cache) == 1
    assert key is not None
    assert len(key) == 32
    assert token.encode() not in key


def test_a_size_of_zero_turns_the_cache_off(rsa_signing_key: SigningKey) -> None:
    authorizer = Authorizer(rsa_signing_key, VERIFIED_TOKEN_CACHE_SIZE="0")
    token = authorizer.token(rsa_signing_key)
    for _ in range(3):
        authorizer.call(token)
    assert authorizer.verifications == 3
    assert len(authorizer.service.token_cache) == 0


def test_reset_forgets_every_verified_token(rsa_signing_key: SigningKey) -> None:
    authorizer = Authorizer(rsa_signing_key)
    token = authorizer.token(rsa_signing_key)
    authorizer.call(token)
    authorizer.service.reset()
    authorizer.call(token)
    assert authorizer.verifications == 2
