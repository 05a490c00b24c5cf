"""The authorizer in each DPoP mode, end to end: API Gateway's events in, its answer out, keys over
127.0.0.1, the replay table on moto. Proofs are signed by the client command's key (local/dpop_client.py)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from moto import mock_aws

from devkit.jwks_server import JwksServer
from devkit.tokens import AUDIENCE, SigningKey, claims_for, jwks_of, mint
from jwt_authorizer import ConfigurationError, Reason
from local.dpop_client import ProofKey
from tests.support.harness import Outcome, classify, token_event
from tests.support.messages_table import REGION
from tests.support.replay_table import REPLAY_TABLE, create_replay_table
from tests.support.request_events import EXECUTE_API_DOMAIN, request_event, self_signed_certificate

pytestmark = pytest.mark.integration

ROUTE_SCOPES = {"GET /messages": ["messages:read"], "POST /messages": ["messages:write"]}
URL = f"https://{EXECUTE_API_DOMAIN}/prod/messages"


@pytest.fixture(scope="module")
def client_key() -> ProofKey:
    return ProofKey.generate()


@pytest.fixture
def replay_table(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("DYNAMODB_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_replay_table(client)
        yield client


def start(monkeypatch: pytest.MonkeyPatch, server: JwksServer, key: SigningKey, **env: str) -> ModuleType:
    server.publish(jwks_of(key))
    monkeypatch.setenv("ISSUER", server.issuer)
    monkeypatch.setenv("AUDIENCE", AUDIENCE)
    monkeypatch.setenv("ROUTE_SCOPES", json.dumps(ROUTE_SCOPES))
    monkeypatch.setenv("DPOP_REPLAY_TABLE", REPLAY_TABLE)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    import authorizer_handler

    authorizer_handler.reset()
    return authorizer_handler


def bound_token(server: JwksServer, key: SigningKey, client: ProofKey | None, **claims: Any) -> str:
    if client is not None:
        claims["cnf"] = {"jkt": client.thumbprint}
    return mint(key, claims_for(server.issuer, **claims))


def dpop_call(
    token: str,
    proof: str | list[str] | None,
    method: str = "GET",
    path: str = "/messages",
    scheme: str = "DPoP",
    **options: Any,
) -> dict[str, Any]:
    headers: dict[str, str | list[str]] = {"Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = proof
    return request_event(method, path, headers, **options)


def answer(handler: ModuleType) -> Any:
    """The handler as API Gateway invokes it."""
    return lambda event: handler.lambda_handler(event, None)


def reason_of(handler: ModuleType, event: dict[str, Any]) -> Reason:
    """The reason the service gives for refusing `event` (the 401 itself is asserted by classify)."""
    from jwt_authorizer import TokenRejected

    with pytest.raises(TokenRejected) as caught:
        handler.current_service().authorize(event)
    return caught.value.reason


@pytest.fixture
def required(
    monkeypatch: pytest.MonkeyPatch, jwks_server: JwksServer, rsa_signing_key: SigningKey, replay_table: Any
) -> ModuleType:
    return start(monkeypatch, jwks_server, rsa_signing_key, DPOP="required")


@pytest.fixture
def allowed(
    monkeypatch: pytest.MonkeyPatch, jwks_server: JwksServer, rsa_signing_key: SigningKey, replay_table: Any
) -> ModuleType:
    return start(monkeypatch, jwks_server, rsa_signing_key, DPOP="allowed")


# DPOP=required --------------------------------------------------------------------------------------------


def test_a_fresh_proof_for_this_call_is_allowed_once(
    required: ModuleType, jwks_server: JwksServer, rsa_signing_key: SigningKey, client_key: ProofKey
) -> None:
    token = bound_token(jwks_server, rsa_signing_key, client_key)
    proof = client_key.proof("GET", URL, token)

    first, result = classify(answer(required), dpop_call(token, proof))
    again, _ = classify(answer(required), dpop_call(token, proof))
    fresh, _ = classify(answer(required), dpop_call(token, client_key.proof("GET", URL, token)))

    assert (first, again, fresh) == (Outcome.ALLOW, Outcome.UNAUTHORIZED, Outcome.ALLOW)
    assert result["principalId"] == "user-123"
    assert reason_of(required, dpop_call(token, proof)) is Reason.DPOP_REPLAYED


def test_a_proof_for_another_url_or_method_is_refused(
    required: ModuleType, jwks_server: JwksServer, rsa_signing_key: SigningKey, client_key: ProofKey
) -> None:
    token = bound_token(jwks_server, rsa_signing_key, client_key)

    other_url = dpop_call(token, client_key.proof("GET", URL + "/1", token))
    other_method = dpop_call(token, client_key.proof("POST", URL, token))

    assert classify(answer(required), other_url)[0] is Outcome.UNAUTHORIZED
    assert reason_of(required, other_url) is Reason.DPOP_HTU_MISMATCH
    assert reason_of(required, other_method) is Reason.DPOP_HTM_MISMATCH


def test_an_under_scoped_dpop_token_gets_403(
    required: ModuleType, jwks_server: JwksServer, rsa_signing_key: SigningKey, client_key: ProofKey
) -> None:
    token = bound_token(jwks_server, rsa_signing_key, client_key, scope="messages:read")
    event = dpop_call(token, client_key.proof("POST", URL, token), method="POST")

    assert classify(answer(required), event)[0] is Outcome.DENY


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda token, key: dpop_call(token, None), Reason.DPOP_MISSING_PROOF),
        (
            lambda token, key: dpop_call(token, [key.proof("GET", URL, token), key.proof("GET", URL, token)]),
            Reason.DPOP_MULTIPLE_PROOFS,
        ),
        (
            lambda token, key: dpop_call(token, key.proof("GET", URL, token), scheme="Bearer"),
            Reason.DPOP_REQUIRED,
        ),
        (
            lambda token, key: dpop_call(token, ProofKey.generate().proof("GET", URL, token)),
            Reason.DPOP_KEY_MISMATCH,
        ),
    ],
)
def test_what_required_mode_refuses(
    required: ModuleType,
    jwks_server: JwksServer,
    rsa_signing_key: SigningKey,
    client_key: ProofKey,
    build: Any,
    reason: Reason,
) -> None:
    event = build(bound_token(jwks_server, rsa_signing_key, client_key), client_key)

    assert classify(answer(required), event)[0] is Outcome.UNAUTHORIZED
    assert reason_of(required, event) is reason


def test_a_token_without_cnf_cannot_be_used_as_dpop(
    required: ModuleType, jwks_server: JwksServer, rsa_signing_key: SigningKey, client_key: ProofKey
) -> None:
    token = bound_token(jwks_server, rsa_signing_key, None)
    event = dpop_call(token, client_key.proof("GET", URL, token))

    assert reason_of(required, event) is Reason.DPOP_TOKEN_NOT_BOUND


def test_a_verified_token_cached_by_the_function_still_needs_a_proof_every_call(
    required: ModuleType, jwks_server: JwksServer, rsa_signing_key: SigningKey, client_key: ProofKey
) -> None:
    token = bound_token(jwks_server, rsa_signing_key, client_key)
    assert classify(answer(required), dpop_call(token, client_key.proof("GET", URL, token)))[0] is (
        Outcome.ALLOW
    )

    assert reason_of(required, dpop_call(token, None)) is Reason.DPOP_MISSING_PROOF
    assert (
        reason_of(required, dpop_call(token, client_key.proof("GET", URL, "x.y.z")))
        is Reason.DPOP_ATH_MISMATCH
    )


def test_on_a_custom_domain_the_proof_names_the_base_path(
    required: ModuleType, jwks_server: JwksServer, rsa_signing_key: SigningKey, client_key: ProofKey
) -> None:
    token = bound_token(jwks_server, rsa_signing_key, client_key)
    custom = {"domain": "api.example.com", "base_path": "v1"}

    good = dpop_call(token, client_key.proof("GET", "https://api.example.com/v1/messages", token), **custom)
    stage_url = dpop_call(token, client_key.proof("GET", URL, token), **custom)

    assert classify(answer(required), good)[0] is Outcome.ALLOW
    assert reason_of(required, stage_url) is Reason.DPOP_HTU_MISMATCH


def test_an_unreachable_replay_table_fails_closed(
    required: ModuleType,
    jwks_server: JwksServer,
    rsa_signing_key: SigningKey,
    client_key: ProofKey,
    replay_table: Any,
) -> None:
    replay_table.delete_table(TableName=REPLAY_TABLE)
    token = bound_token(jwks_server, rsa_signing_key, client_key)

    outcome, _ = classify(answer(required), dpop_call(token, client_key.proof("GET", URL, token)))

    assert outcome is Outcome.UNAVAILABLE


def test_a_token_event_is_refused_by_a_request_authorizer(
    required: ModuleType, jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> None:
    event = token_event(f"Bearer {bound_token(jwks_server, rsa_signing_key, None)}")

    assert reason_of(required, event) is Reason.MALFORMED_EVENT


# DPOP=allowed ---------------------------------------------------------------------------------------------


def test_allowed_mode_takes_bearer_and_dpop(
    allowed: ModuleType, jwks_server: JwksServer, rsa_signing_key: SigningKey, client_key: ProofKey
) -> None:
    plain = bound_token(jwks_server, rsa_signing_key, None)
    bound = bound_token(jwks_server, rsa_signing_key, client_key)

    bearer = dpop_call(plain, None, scheme="Bearer")
    dpop = dpop_call(bound, client_key.proof("GET", URL, bound))

    assert classify(answer(allowed), bearer)[0] is Outcome.ALLOW
    assert classify(answer(allowed), dpop)[0] is Outcome.ALLOW


def test_a_dpop_bound_token_as_bearer_is_refused_even_with_its_proof(
    allowed: ModuleType, jwks_server: JwksServer, rsa_signing_key: SigningKey, client_key: ProofKey
) -> None:
    bound = bound_token(jwks_server, rsa_signing_key, client_key)
    event = dpop_call(bound, client_key.proof("GET", URL, bound), scheme="Bearer")

    assert classify(answer(allowed), event)[0] is Outcome.UNAUTHORIZED
    assert reason_of(allowed, event) is Reason.DPOP_BOUND_TOKEN_AS_BEARER


# Certificate-bound tokens (RFC 8705) under mutual TLS -----------------------------------------------------


def x5t_s256(pem: str) -> str:
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


def test_a_certificate_bound_token_needs_its_certificate(
    allowed: ModuleType, jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> None:
    pem, other = self_signed_certificate(), self_signed_certificate("thief.example.com")
    token = mint(rsa_signing_key, claims_for(jwks_server.issuer, cnf={"x5t#S256": x5t_s256(pem)}))
    mtls = {"domain": "api.example.com", "base_path": ""}

    with_it = dpop_call(token, None, scheme="Bearer", client_cert_pem=pem, **mtls)
    without = dpop_call(token, None, scheme="Bearer", **mtls)
    another = dpop_call(token, None, scheme="Bearer", client_cert_pem=other, **mtls)

    assert classify(answer(allowed), with_it)[0] is Outcome.ALLOW
    assert reason_of(allowed, without) is Reason.CERTIFICATE_MISSING
    assert reason_of(allowed, another) is Reason.CERTIFICATE_MISMATCH


# DPOP=off: the TOKEN authorizer ---------------------------------------------------------------------------


@pytest.fixture
def off(monkeypatch: pytest.MonkeyPatch, jwks_server: JwksServer, rsa_signing_key: SigningKey) -> ModuleType:
    monkeypatch.delenv("DPOP_REPLAY_TABLE", raising=False)
    return start(monkeypatch, jwks_server, rsa_signing_key)


def test_off_mode_refuses_a_bound_token_as_bearer_and_takes_a_plain_one(
    off: ModuleType, jwks_server: JwksServer, rsa_signing_key: SigningKey, client_key: ProofKey
) -> None:
    bound = token_event(f"Bearer {bound_token(jwks_server, rsa_signing_key, client_key)}")
    certificate_bound = token_event(
        f"Bearer {mint(rsa_signing_key, claims_for(jwks_server.issuer, cnf={'x5t#S256': 'abc'}))}"
    )
    plain = token_event(f"Bearer {bound_token(jwks_server, rsa_signing_key, None)}")

    assert classify(answer(off), bound)[0] is Outcome.UNAUTHORIZED
    assert reason_of(off, bound) is Reason.DPOP_BOUND_TOKEN_AS_BEARER
    assert reason_of(off, certificate_bound) is Reason.CERTIFICATE_MISSING
    assert classify(answer(off), plain)[0] is Outcome.ALLOW


def test_off_mode_refuses_the_dpop_scheme_as_it_always_did(
    off: ModuleType, jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> None:
    event = token_event(f"DPoP {bound_token(jwks_server, rsa_signing_key, None)}")

    assert reason_of(off, event) is Reason.MALFORMED_HEADER


# Settings ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DPOP": "sometimes"}, "DPOP"),
        ({"DPOP": "required", "DPOP_REPLAY_TABLE": ""}, "DPOP_REPLAY_TABLE"),
        ({"DPOP": "required", "DPOP_ALGORITHMS": "HS256"}, "DPOP_ALGORITHMS"),
        ({"DPOP": "required", "DPOP_IAT_WINDOW_SECONDS": "0"}, "DPOP_IAT_WINDOW_SECONDS"),
        ({"DPOP": "required", "DPOP_IAT_WINDOW_SECONDS": "1m"}, "DPOP_IAT_WINDOW_SECONDS"),
    ],
)
def test_a_bad_dpop_setting_stops_the_cold_start_naming_it(
    monkeypatch: pytest.MonkeyPatch,
    jwks_server: JwksServer,
    rsa_signing_key: SigningKey,
    env: dict[str, str],
    variable: str,
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        start(monkeypatch, jwks_server, rsa_signing_key, **env)
    assert caught.value.variable == variable
