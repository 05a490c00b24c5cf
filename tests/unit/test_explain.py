"""The explain command: the authorizer's own checks, one at a time, and the authorizer's own verdict."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from devkit.tokens import REMOVE, SigningKey, mint, raw_token, rsa_key
from jwt_authorizer import HINTS, ConfigurationError, Reason, Settings, build_authorizer
from tests.support.providers import (
    COGNITO_CLIENT_ID,
    COGNITO_ISSUER,
    GENERIC_ISSUER,
    NOW,
    QuietTelemetry,
    StaticFetcher,
    cognito_access_claims,
    cognito_id_claims,
    generic_claims,
    provider_documents,
    rejection,
)
from tools.explain import Explanation, explain, main

#: Where no local stack has written its settings, so main() reads this environment as it would in CI.
NO_STACK = Path(__file__).parent / "no-local-stack-settings.json"
ROUTES = {"GET /messages": ["messages:read"], "POST /messages": ["messages:write"]}
ENV = {
    "ISSUER": GENERIC_ISSUER,
    "AUDIENCE": "https://api.example.com",
    "SCOPE_CLAIMS": "roles",
    "ROUTE_SCOPES": json.dumps(ROUTES),
}


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return rsa_key("key-1")


def run(token: str, key: SigningKey, env: dict[str, str] | None = None, at: float = NOW + 60) -> Explanation:
    settings = Settings.from_env(env or ENV)
    documents: dict[str, Any] = {}
    for issuer in settings.issuers:
        documents |= provider_documents(issuer, key)
    return explain(token, settings, fetcher=StaticFetcher(documents), now=lambda: at)


EXPECTED_ALLOWED = """\
Configuration
         issuer https://auth.example.com  audiences: https://api.example.com
         algorithms: RS256; leeway: 30 s; token_use: access
         typ at+jwt: not required; scopes from: scope, scp, roles

1. Token
  [ok]   one compact JWS; signature of 256 bytes (never shown)

2. Header
         {
           "alg": "RS256",
           "kid": "key-1",
           "typ": "JWT"
         }
  [ok]   alg RS256 is allowed; kid 'key-1'

3. Claims, as the token states them (checked below)
         {
           "aud": "https://api.example.com",
           "client_id": "s6BhdRkqt3",
           "exp": 1800000600,
           "iat": 1800000000,
           "iss": "https://auth.example.com",
           "jti": "dbe39bf3a3ba4238a513f51d6e1691c4",
           "roles": [
             "messages:write"
           ],
           "scope": "messages:read",
           "sub": "5ba552d67"
         }

4. Issuer
  [ok]   iss 'https://auth.example.com' is trusted

5. Key
         fetched https://auth.example.com/.well-known/openid-configuration
         fetched https://auth.example.com/.well-known/jwks.json (kids: key-1)
         fetched 1 usable key(s) for https://auth.example.com
  [ok]   key 'key-1' (RSA) published by https://auth.example.com

6. Signature
  [ok]   valid RS256 signature by key 'key-1'

7. Claims
  [ok]   exp 2027-01-15T08:10:00Z (in 540 s)
  [ok]   nbf absent
  [ok]   iat 2027-01-15T08:00:00Z (60 s ago)
  [ok]   aud "https://api.example.com" (accepted: https://api.example.com)
  [ok]   token_use absent (only Cognito requires it)
  [ok]   sub "5ba552d67"
  [ok]   jti "dbe39bf3a3ba4238a513f51d6e1691c4"

8. Scopes and routes
         scopes (scope, scp): ["messages:read"]
         granted by SCOPE_CLAIMS (roles): ["messages:write"]
  [ok]   the principalId and the context take 304 of their 4096 bytes
  [ok]   GET /messages needs messages:read
  [ok]   POST /messages needs messages:write
         any route not in ROUTE_SCOPES needs only a valid token

Verdict (the authorizer's own decision)
  [ok]   valid token, allowed on every route
         event.requestContext.authorizer, as your functions receive it (values as strings):
         {
           "aud": "https://api.example.com",
           "client_id": "s6BhdRkqt3",
           "exp": "1800000600",
           "iat": "1800000000",
           "iss": "https://auth.example.com",
           "jti": "dbe39bf3a3ba4238a513f51d6e1691c4",
           "principalId": "5ba552d67",
           "roles": "messages:write",
           "scopes": "[\\"messages:read\\",\\"messages:write\\"]",
           "sub": "5ba552d67"
         }
"""


def test_a_valid_token_is_explained_step_by_step_in_full(key: SigningKey) -> None:
    explanation = run(mint(key, generic_claims(roles=["messages:write"])), key)
    assert explanation.text == EXPECTED_ALLOWED
    assert (explanation.exit_code, explanation.reason, explanation.denied) == (0, None, [])


def test_a_missing_scope_is_shown_against_each_route(key: SigningKey) -> None:
    explanation = run(mint(key, generic_claims()), key)
    assert (explanation.exit_code, explanation.denied) == (0, ["POST /messages"])
    assert "  [ok]   GET /messages needs messages:read\n" in explanation.text
    assert "  [FAIL] POST /messages needs messages:write: missing messages:write -> 403\n" in explanation.text
    assert "  [ok]   valid token; 403 insufficient_scope on: POST /messages\n" in explanation.text
    assert (
        "         a denied route is denied in each spelling API Gateway may route to it: with a trailing"
        " slash, and any POST path with a doubled slash or a %-encoding (docs/security.md)\n"
    ) in explanation.text


def test_an_issuer_that_differs_by_a_trailing_slash_is_pointed_out(key: SigningKey) -> None:
    explanation = run(mint(key, generic_claims(iss=f"{GENERIC_ISSUER}/")), key)
    assert explanation.text.split("4. Issuer\n")[1] == (
        "  [FAIL] untrusted_issuer (iss 'https://auth.example.com/')\n"
        "         fix: ISSUER must list the token's iss exactly, character for character.\n"
        "         trusted issuers: https://auth.example.com\n"
        "         'https://auth.example.com/' differs from 'https://auth.example.com'"
        " only by a trailing slash\n"
        "\n"
        "Verdict (the authorizer's own decision)\n"
        "  [FAIL] 401 Unauthorized: untrusted_issuer (iss 'https://auth.example.com/')\n"
    )
    assert explanation.exit_code == 1


def test_an_unknown_kid_lists_the_kids_the_issuer_publishes(key: SigningKey) -> None:
    stranger = rsa_key("key-from-staging")
    explanation = run(mint(stranger, generic_claims()), key)
    assert explanation.reason == "unknown_kid"
    assert "fetched https://auth.example.com/.well-known/jwks.json (kids: key-1)" in explanation.text
    assert "  [FAIL] unknown_kid (no key 'key-from-staging' in the JWKS of https://auth.example.com)" in (
        explanation.text
    )
    assert "6. Signature\n         not reached: no key to check it with\n" in explanation.text


def test_every_failing_claim_is_shown_not_only_the_first(key: SigningKey) -> None:
    token = mint(key, generic_claims(exp=NOW - 600, aud="https://other.example.com", token_use="id"))
    explanation = run(token, key)
    claims_section = explanation.text.split("7. Claims\n")[1].split("\n\n")[0]
    assert claims_section.splitlines() == [
        "  [FAIL] exp 2027-01-15T07:50:00Z (660 s ago): token_expired",
        f"         fix: {HINTS[Reason.TOKEN_EXPIRED]}",
        "  [ok]   nbf absent",
        "  [ok]   iat 2027-01-15T08:00:00Z (60 s ago)",
        '  [FAIL] aud "https://other.example.com" (accepted: https://api.example.com):'
        " invalid_audience (no accepted audience in 'aud')",
        f"         fix: {HINTS[Reason.INVALID_AUDIENCE]}",
        "  [FAIL] token_use \"id\": invalid_token_use (token_use 'id')",
        f"         fix: {HINTS[Reason.INVALID_TOKEN_USE]}",
        '  [ok]   sub "5ba552d67"',
        '  [ok]   jti "dbe39bf3a3ba4238a513f51d6e1691c4"',
    ]
    assert explanation.reason == "token_expired"


def test_a_cognito_access_token_is_checked_on_client_id(key: SigningKey) -> None:
    env = {"ISSUER": COGNITO_ISSUER, "AUDIENCE": COGNITO_CLIENT_ID}
    explanation = run(mint(key, cognito_access_claims()), key, env)
    assert explanation.exit_code == 0
    assert f"  [ok]   iss '{COGNITO_ISSUER}' is trusted (an Amazon Cognito user pool)\n" in explanation.text
    assert (
        f'  [ok]   client_id "{COGNITO_CLIENT_ID}" (Cognito, no aud; accepted: {COGNITO_CLIENT_ID})\n'
        in explanation.text
    )
    assert '  [ok]   token_use "access"\n' in explanation.text


def test_unreachable_keys_are_explained_as_a_503(key: SigningKey) -> None:
    settings = Settings.from_env(ENV)
    explanation = explain(mint(key, generic_claims()), settings, fetcher=StaticFetcher({}), now=lambda: NOW)
    assert explanation.exit_code == 2
    assert "  [FAIL] keys unavailable: no keys could be fetched yet\n" in explanation.text
    assert "could not fetch the keys of https://auth.example.com: " in explanation.text
    assert explanation.text.endswith(
        "  [FAIL] 503: the token cannot be checked now"
        " (keys for https://auth.example.com unavailable: no keys could be fetched yet)\n"
    )


def test_a_bearer_header_value_is_accepted_as_well_as_a_bare_token(key: SigningKey) -> None:
    token = mint(key, generic_claims())
    assert run(f"bearer {token}", key).text == run(token, key).text


def _corpus(key: SigningKey) -> dict[str, tuple[str, str | None]]:
    """Tokens with what the authorizer says about them (None: accepted)."""
    other = rsa_key("key-1")  # same kid, another key
    return {
        "valid": (mint(key, generic_claims(roles=["messages:write"])), None),
        "not a JWS": ("abc.def", "malformed_header"),
        "header not JSON": ("YWJj.e30.c2ln", "malformed_token"),
        "alg none": (raw_token({"alg": "none", "kid": "key-1"}, generic_claims()), "algorithm_not_allowed"),
        "HS256": (raw_token({"alg": "HS256", "kid": "key-1"}, generic_claims()), "algorithm_not_allowed"),
        "crit": (mint(key, generic_claims(), crit=["exp"]), "unsupported_header"),
        "no kid": (mint(key, generic_claims(), kid=REMOVE), "missing_kid"),
        "foreign issuer": (mint(key, generic_claims(iss="https://evil.example.com")), "untrusted_issuer"),
        "forged": (mint(other, generic_claims()), "invalid_signature"),
        "expired": (mint(key, generic_claims(exp=NOW - 600)), "token_expired"),
        "no exp": (mint(key, generic_claims(exp=REMOVE)), "missing_exp"),
        "future nbf": (mint(key, generic_claims(nbf=NOW + 3600)), "token_not_yet_valid"),
        "future iat": (mint(key, generic_claims(iat=NOW + 3600)), "token_issued_in_future"),
        "wrong aud": (mint(key, generic_claims(aud="x")), "invalid_audience"),
        "id token": (mint(key, generic_claims(token_use="id")), "invalid_token_use"),
        "no sub": (mint(key, generic_claims(sub=REMOVE)), "missing_sub"),
        "numeric jti": (mint(key, generic_claims(jti=7)), "invalid_jti"),
        "bad scope": (mint(key, generic_claims(scope=["a", 1])), "invalid_scope_claim"),
        "bad roles": (mint(key, generic_claims(roles={"admin": True})), "invalid_scope_claim"),
        "huge sub": (mint(key, generic_claims(sub="s" * 6_000)), "context_too_large"),
        "huge roles": (
            mint(key, generic_claims(roles=[f"role-{n:04}" for n in range(400)])),
            "context_too_large",
        ),
        "cognito id token": (
            mint(key, cognito_id_claims(iss=GENERIC_ISSUER, aud="https://api.example.com")),
            "invalid_token_use",
        ),
    }


def test_the_explanation_and_the_authorizer_agree_on_every_kind_of_token(key: SigningKey) -> None:
    settings = Settings.from_env(ENV)
    documents = provider_documents(GENERIC_ISSUER, key)
    authorizer = build_authorizer(
        settings, telemetry=QuietTelemetry(), fetcher=StaticFetcher(documents), now=lambda: NOW + 60
    )
    for name, (token, expected) in _corpus(key).items():
        explanation = run(token, key)
        assert (name, explanation.reason, rejection(authorizer, token)) == (name, expected, expected)
        first_failure = next((line for line in explanation.text.splitlines() if "[FAIL]" in line), None)
        if expected is None:
            assert first_failure is None, name
        else:
            # The step-by-step walk finds the very failure the pipeline stops at, first.
            assert first_failure is not None, name
            assert expected in first_failure, (name, first_failure)


def test_a_name_with_another_whitespace_is_shown_as_the_one_name_it_is(key: SigningKey) -> None:
    explanation = run(mint(key, generic_claims(scope="messages:read\tmessages:write")), key)
    assert '         scopes (scope, scp): ["messages:read\\tmessages:write"]\n' in explanation.text
    assert (
        '         "messages:read\\tmessages:write" is one name: only a space (U+0020) between names separates'
        " them\n" in explanation.text
    )
    assert "  [FAIL] GET /messages needs messages:read: missing messages:read -> 403\n" in explanation.text
    assert explanation.denied == ["GET /messages", "POST /messages"]


def test_a_token_too_large_to_pass_on_is_explained_with_its_size_and_a_hint(key: SigningKey) -> None:
    explanation = run(mint(key, generic_claims(roles=[f"role-{n:04}" for n in range(400)])), key)
    assert explanation.reason == "context_too_large"
    assert "  [FAIL] context_too_large (sub (also the principalId), iss, scopes and client_id take" in (
        explanation.text
    )
    assert "         fix: sub, iss, the granted names" in explanation.text


@pytest.mark.parametrize("algorithm", ["HS256", "HS512", "none"])
def test_a_symmetric_or_unsigned_token_is_told_it_is_never_accepted_not_to_extend_algorithms(
    algorithm: str,
) -> None:
    token = raw_token({"alg": algorithm, "kid": "key-1"}, generic_claims())

    text = run(token, rsa_key("key-1")).text

    advice = next(line for line in text.splitlines() if line.lstrip().startswith("fix:"))
    assert f"alg '{algorithm}' is never accepted, whatever ALGORITHMS says" in advice
    assert "RS256" in advice
    assert "add the token's alg to ALGORITHMS" not in text
    # Following the old advice would not have helped: the authorizer refuses to start with it.
    with pytest.raises(ConfigurationError, match="symmetric algorithms and 'none' are never accepted"):
        Settings.from_env({**ENV, "ALGORITHMS": algorithm})


def test_an_asymmetric_alg_left_out_of_algorithms_is_told_to_add_it(key: SigningKey) -> None:
    text = run(mint(key, generic_claims()), key, env={**ENV, "ALGORITHMS": "ES256"}).text

    assert f"fix: {HINTS[Reason.ALGORITHM_NOT_ALLOWED]}" in text


def test_the_signature_is_never_printed(key: SigningKey) -> None:
    for name, (token, _) in _corpus(key).items():
        parts = token.split(".")
        if len(parts) == 3 and len(parts[2]) > 4:
            assert parts[2] not in run(token, key).text, name


def _main(argv: list[str], stdin: str = "", stack_settings: Path = NO_STACK) -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, stdin=io.StringIO(stdin), stdout=out, stack_settings=stack_settings), out.getvalue()


def test_main_reports_a_configuration_the_authorizer_would_not_start_with(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ISSUER", "http://auth.example.com")
    monkeypatch.setenv("AUDIENCE", "api")
    assert _main(["abc.def.ghi"]) == (
        3,
        "Settings from this environment.\n"
        "The authorizer would not start with these settings: ISSUER: 'http://auth.example.com'"
        " must use https (plain http is allowed only for loopback hosts)\n",
    )


def test_main_reads_the_token_from_stdin_and_the_settings_from_an_env_file(tmp_path: Any) -> None:
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps({"ISSUER": GENERIC_ISSUER, "AUDIENCE": "api"}))
    code, output = _main(["--env-file", str(env_file), "-"], stdin="Bearer not-a-token\n")
    assert code == 1
    assert output.splitlines()[:4] == [
        f"Settings from {env_file}.",
        "",
        "Configuration",
        "         issuer https://auth.example.com  audiences: api",
    ]
    assert output.endswith("  [FAIL] 401 Unauthorized: malformed_header (expected 'Bearer <compact JWS>')\n")


def test_main_reads_the_token_from_the_token_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISSUER", GENERIC_ISSUER)
    monkeypatch.setenv("AUDIENCE", "api")
    monkeypatch.setenv("TOKEN", "YWJj.e30.c2ln")
    code, output = _main([])
    assert (code, output.splitlines()[-1]) == (
        1,
        "  [FAIL] 401 Unauthorized: malformed_token (the header is not valid JSON)",
    )


def test_main_refuses_an_env_file_that_is_not_an_object_of_strings(tmp_path: Any) -> None:
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps({"ISSUER": GENERIC_ISSUER, "LEEWAY_SECONDS": 30}))
    code, output = _main(["--env-file", str(env_file), "abc.def.ghi"])
    assert (code, output) == (
        4,
        f"Cannot read the settings: {env_file} is not a JSON object of environment variable names to"
        " strings, as `aws lambda get-function-configuration --query Environment.Variables` prints\n",
    )


def test_a_missing_env_file_is_reported_as_missing_with_how_to_write_it(tmp_path: Any) -> None:
    missing = tmp_path / "authorizer-env.json"

    code, output = _main(["--env-file", str(missing), "abc.def.ghi"])

    assert code == 4
    assert output.startswith(f"Cannot read the settings: {missing}: no such file. Write it from")
    assert "aws lambda get-function-configuration" in output
    assert "would not start" not in output


def test_the_running_local_stacks_settings_are_used_unless_issuer_is_set(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the settings `make dev` wrote, with its route table
    stack_settings = tmp_path / "authorizer-env.json"
    stack_settings.write_text(
        json.dumps(
            {"ISSUER": "http://127.0.0.1:3001", "AUDIENCE": "local", "ROUTE_SCOPES": '{"GET /m": ["m:read"]}'}
        )
    )
    monkeypatch.delenv("ISSUER", raising=False)

    code, output = _main(["abc.def.ghi"], stack_settings=stack_settings)

    assert code == 1
    assert output.startswith(
        f"Settings of the local stack (make dev), from {stack_settings}.\n\nConfiguration\n"
    )
    assert "         issuer http://127.0.0.1:3001  audiences: local\n" in output

    # An ISSUER in this environment says which settings are meant: the stack's file is left alone.
    monkeypatch.setenv("ISSUER", GENERIC_ISSUER)
    monkeypatch.setenv("AUDIENCE", "api")
    code, output = _main(["abc.def.ghi"], stack_settings=stack_settings)
    assert output.startswith("Settings from this environment.\n")
    assert "issuer https://auth.example.com  audiences: api" in output


def test_main_asks_for_a_token_when_none_is_given(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.delenv("TOKEN", raising=False)
    assert _main([]) == (4, "")
    assert "give a token" in capsys.readouterr().err
