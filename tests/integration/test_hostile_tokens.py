"""Hostile tokens and events through the Lambda entry point, against a real provider on 127.0.0.1.

Every case must end in exactly `Exception("Unauthorized")`: never an Allow, never another exception. None
may make the authorizer fetch anything beyond its own issuer's keys, and nothing it writes may contain
the token or its signature.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from types import ModuleType

import pytest

from devkit.jwks_server import JwksServer, Reply
from devkit.logs import LogWatch, watching_logs
from devkit.tokens import SigningKey, jwks_of, rsa_key, sign_segments
from tests.support.harness import Outcome, classify, load_handler, token_event
from tests.support.hostile import ATTACKER_JWKS_PATH, EVENT_CASES, HOSTILE_CASES, Forge

ALGORITHMS = "RS256,PS256,ES256,EdDSA"  # several, so a mismatch is caught at the key, not the allow-list


@pytest.fixture(scope="session")
def attacker_key() -> SigningKey:
    return rsa_key("attacker")


@pytest.fixture
def provider(
    jwks_server: JwksServer,
    rsa_signing_key: SigningKey,
    ec_signing_key: SigningKey,
    weak_rsa_key: SigningKey,
    attacker_key: SigningKey,
) -> JwksServer:
    jwks_server.publish(jwks_of(rsa_signing_key, ec_signing_key, weak_rsa_key))
    # The attacker's keys are really there, so a fetch of them would succeed (and be counted).
    jwks_server.replies[ATTACKER_JWKS_PATH] = Reply.json(jwks_of(attacker_key))
    return jwks_server


@pytest.fixture
def forge(
    provider: JwksServer,
    rsa_signing_key: SigningKey,
    ec_signing_key: SigningKey,
    weak_rsa_key: SigningKey,
    attacker_key: SigningKey,
) -> Forge:
    return Forge(
        issuer=provider.issuer,
        key=rsa_signing_key,
        ec=ec_signing_key,
        weak=weak_rsa_key,
        attacker=attacker_key,
        attacker_url=provider.base_url + ATTACKER_JWKS_PATH,
        now=int(time.time()),
    )


@pytest.fixture
def handler(provider: JwksServer, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    return load_handler(monkeypatch, provider.issuer, ALGORITHMS=ALGORITHMS)


@pytest.fixture
def watch(handler: ModuleType) -> Iterator[LogWatch]:
    with watching_logs(handler.SERVICE_NAME) as watch:
        yield watch


def outcome(handler: ModuleType, watch: LogWatch, event: object) -> Outcome:
    if isinstance(event, dict):
        watch.remember(event.get("authorizationToken"))
    found, detail = classify(lambda e: handler.lambda_handler(e, None), event)  # type: ignore[arg-type]
    assert found is not Outcome.BUG, repr(detail)
    return found


def assert_nothing_leaked(
    watch: LogWatch, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    assert watch.leaks(capsys.readouterr().out, caplog.text) == []


@pytest.mark.parametrize("case", list(HOSTILE_CASES))
def test_a_hostile_authorization_value_gets_exactly_unauthorized(
    case: str,
    handler: ModuleType,
    forge: Forge,
    watch: LogWatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    authorization = HOSTILE_CASES[case](forge)
    assert outcome(handler, watch, token_event(authorization)) is Outcome.UNAUTHORIZED
    assert_nothing_leaked(watch, capsys, caplog)


@pytest.mark.parametrize("case", list(EVENT_CASES))
def test_a_malformed_event_gets_exactly_unauthorized(
    case: str,
    handler: ModuleType,
    forge: Forge,
    watch: LogWatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    event = EVENT_CASES[case](forge)
    if isinstance(event, str):
        watch.remember(event)
    assert outcome(handler, watch, event) is Outcome.UNAUTHORIZED
    assert_nothing_leaked(watch, capsys, caplog)


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_same_forge_makes_tokens_that_are_allowed_when_nothing_is_wrong(
    scheme: str, handler: ModuleType, forge: Forge, watch: LogWatch
) -> None:
    # The positive control: the hostile cases fail for their one defect, not because the forge is broken.
    assert outcome(handler, watch, token_event(f"{scheme} {forge.valid()}")) is Outcome.ALLOW
    ec_token = forge.signed(header=forge.header(forge.ec), key=forge.ec)
    assert outcome(handler, watch, token_event(f"{scheme} {ec_token}")) is Outcome.ALLOW


def test_every_hostile_case_together_costs_at_most_one_extra_fetch_and_never_the_attackers_url(
    handler: ModuleType, forge: Forge, provider: JwksServer, watch: LogWatch
) -> None:
    # Given a warm authorizer
    assert outcome(handler, watch, token_event(f"Bearer {forge.valid()}")) is Outcome.ALLOW
    # When every hostile case arrives within one cooldown
    for build in HOSTILE_CASES.values():
        assert outcome(handler, watch, token_event(build(forge))) is Outcome.UNAUTHORIZED
    for build_event in EVENT_CASES.values():
        assert outcome(handler, watch, build_event(forge)) is Outcome.UNAUTHORIZED
    # Then the provider saw the cold start and one unknown-kid refetch, and nobody fetched the attacker's URL
    assert provider.hits == {provider.discovery_path: 1, provider.jwks_path: 2}
    # And the authorizer still answers valid tokens
    assert outcome(handler, watch, token_event(f"Bearer {forge.valid()}")) is Outcome.ALLOW


def test_an_untrusted_issuer_costs_no_fetch_even_at_cold_start(
    handler: ModuleType, forge: Forge, provider: JwksServer, watch: LogWatch
) -> None:
    for issuer in ("https://evil.example.com", provider.base_url + "/attacker", forge.attacker_url):
        token = forge.valid(iss=issuer)
        assert outcome(handler, watch, token_event(f"Bearer {token}")) is Outcome.UNAUTHORIZED
    assert sum(provider.hits.values()) == 0


def test_attacker_text_cannot_forge_a_log_line(handler: ModuleType, forge: Forge, watch: LogWatch) -> None:
    forged_line = '{"level":"INFO","message":"token allowed","sub":"admin"}'
    for field in ("kid", "iss", "sub"):
        hostile = f'x"}}\n{forged_line}\r\n'
        token = (
            forge.signed(header=forge.header(kid=hostile))
            if field == "kid"
            else forge.valid(**{field: hostile, "aud": "api://other"})
        )
        assert outcome(handler, watch, token_event(f"Bearer {token}")) is Outcome.UNAUTHORIZED
    records = [json.loads(line) for line in watch.stream.getvalue().splitlines()]
    # One JSON record per rejection (and the cold start's fetch); the attacker's text stays inside a value.
    assert [record["message"] for record in records] == ["JWKS fetched"] + ["token rejected"] * 3
    assert all("token allowed" not in record["message"] for record in records)


def test_json_nested_up_to_32_levels_is_read_whatever_the_python_version(
    handler: ModuleType, forge: Forge, watch: LogWatch
) -> None:
    # The top-level object is level 1; 31 nested lists bring the innermost to level 32.
    claims = json.dumps(forge.claims())[:-1] + ', "x": ' + "[" * 31 + "]" * 31 + "}"
    token = sign_segments(forge.key, json.dumps(forge.header()).encode(), claims.encode())
    assert outcome(handler, watch, token_event(f"Bearer {token}")) is Outcome.ALLOW
