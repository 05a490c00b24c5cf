"""Provider faults through the Lambda entry point, over real HTTP on 127.0.0.1.

Whatever the provider does, the authorizer fails closed: at a cold start it answers with a server error
(5xx, never 401, never Allow) and retries at most once per cooldown; after warm-up it keeps serving the
cached keys up to the maximum staleness, then fails closed. Caches run on a clock the tests jump forward;
network timeouts run on the real one.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from types import ModuleType

import pytest

from devkit.jwks_server import JwksServer, Reply
from devkit.logs import LogWatch, watching_logs
from devkit.tokens import SigningKey, claims_for, jwks_of, mint, rsa_key
from tests.support.harness import Outcome, SteppingClock, classify, install_clocks, load_handler, token_event

TTL, COOLDOWN, MAX_STALE = 60, 30, 600
SETTINGS = {
    "JWKS_CACHE_SECONDS": str(TTL),
    "JWKS_COOLDOWN_SECONDS": str(COOLDOWN),
    "JWKS_MAX_STALE_SECONDS": str(MAX_STALE),
}
REDIRECT_TARGET = "/elsewhere/jwks.json"

Fault = Callable[[JwksServer], None]


def _jwks_reply(reply: Reply) -> Fault:
    def apply(server: JwksServer) -> None:
        server.replies[server.jwks_path] = reply

    return apply


def _jwks_document(document: object) -> Fault:
    return _jwks_reply(Reply(body=json.dumps(document).encode()))


def _redirect(status: int) -> Fault:
    return _jwks_reply(Reply(status=status, headers={"Location": REDIRECT_TARGET}))


def _chunked(body: bytes) -> bytes:
    chunks = [body[i : i + 8_192] for i in range(0, len(body), 8_192)]
    return b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"


_GOOD_JWK = rsa_key("good").public_jwk()


def _rsa_jwk(**overrides: object) -> dict[str, object]:
    """A usable 2048-bit RSA JWK under kid rsa-1, but for the overridden members."""
    return {**_GOOD_JWK, "kid": "rsa-1", **overrides}


#: Faults on the JWKS endpoint that answer at once. Each must be a failed fetch, handled as one.
FAST_JWKS_FAULTS: dict[str, Fault] = {
    "HTTP 500": _jwks_reply(Reply(status=500, body=b"{}")),
    "HTTP 503": _jwks_reply(Reply(status=503, body=b"{}")),
    "HTTP 404": _jwks_reply(Reply(status=404, body=b"{}")),
    "HTTP 204": _jwks_reply(Reply(status=204)),
    "a 301 redirect": _redirect(301),
    "a 302 redirect": _redirect(302),
    "a 307 redirect": _redirect(307),
    "a 308 redirect": _redirect(308),
    "invalid JSON": _jwks_reply(Reply(body=b"<html>maintenance</html>")),
    "an empty body": _jwks_reply(Reply(body=b"")),
    "JSON nested 100,000 deep": _jwks_reply(Reply(body=b"[" * 100_000)),
    "a JSON array": _jwks_document([]),
    "JSON without keys": _jwks_document({"no": "keys"}),
    "keys not a list": _jwks_document({"keys": {"kid": "rsa-1"}}),
    "an empty key list": _jwks_document({"keys": []}),
    "only a symmetric key": _jwks_document({"keys": [{"kty": "oct", "kid": "rsa-1", "k": "c2VjcmV0"}]}),
    "only an X25519 key": _jwks_document(
        {"keys": [{"kty": "OKP", "crv": "X25519", "kid": "rsa-1", "x": "AA"}]}
    ),
    "only a secp256k1 key": _jwks_document({"keys": [{"kty": "EC", "crv": "secp256k1", "kid": "rsa-1"}]}),
    "only an encryption key": _jwks_document({"keys": [_rsa_jwk(use="enc")]}),
    "only a key with alg as a list": _jwks_document({"keys": [_rsa_jwk(alg=["RS256"])]}),
    "only a key with crv as a list": _jwks_document(
        {"keys": [{"kty": "EC", "crv": ["P-256"], "kid": "rsa-1"}]}
    ),
    "only a key with crv as an object": _jwks_document(
        {"keys": [{"kty": "OKP", "crv": {"Ed25519": 1}, "kid": "rsa-1"}]}
    ),
    "only a key with kty as a list": _jwks_document({"keys": [_rsa_jwk(kty=["RSA"])]}),
    "only a key with use as a list": _jwks_document({"keys": [_rsa_jwk(use=["sig"])]}),
    "only keys that are not objects": _jwks_document({"keys": [None, 1, "rsa-1", ["RSA"]]}),
    "more than 100 keys": _jwks_document({"keys": [_rsa_jwk(kid=str(i)) for i in range(101)]}),
    "a declared oversize body": _jwks_reply(Reply(body=b"{" + b" " * 150_001 + b"}")),
    "an undeclared oversize body": _jwks_reply(
        Reply(body=_chunked(b"{" + b" " * 150_001 + b"}"), headers={"Transfer-Encoding": "chunked"})
    ),
    "a gzip body": _jwks_reply(Reply(body=b"{}", headers={"Content-Encoding": "gzip"})),
    "a dropped connection": _jwks_reply(Reply(close_without_answer=True)),
    "a body cut short": _jwks_reply(Reply(body=b'{"keys": [', headers={"Content-Length": "1000"})),
}

#: Faults of the discovery document; they matter at a cold start (the JWKS URI is kept afterwards).
DISCOVERY_FAULTS: dict[str, Fault] = {
    "discovery HTTP 500": lambda s: s.replies.update({s.discovery_path: Reply(status=500)}),
    "discovery HTTP 503": lambda s: s.replies.update({s.discovery_path: Reply(status=503)}),
    "discovery redirected": lambda s: s.replies.update(
        {s.discovery_path: Reply(status=302, headers={"Location": REDIRECT_TARGET})}
    ),
    "discovery invalid JSON": lambda s: s.replies.update({s.discovery_path: Reply(body=b"{")}),
    "discovery a JSON array": lambda s: s.replies.update({s.discovery_path: Reply.json([])}),
    "discovery nested 100,000 deep": lambda s: s.replies.update(
        {s.discovery_path: Reply(body=b"[" * 100_000)}
    ),
    "discovery without jwks_uri": lambda s: s.replies.update(
        {s.discovery_path: Reply.json({"issuer": s.issuer})}
    ),
    "discovery jwks_uri not a string": lambda s: s.replies.update(
        {s.discovery_path: Reply.json({"issuer": s.issuer, "jwks_uri": ["x"]})}
    ),
    "discovery for another issuer": lambda s: s.replies.update(
        {s.discovery_path: Reply.json({"issuer": s.issuer + "/", "jwks_uri": s.base_url + s.jwks_path})}
    ),
    "discovery body cut short": lambda s: s.replies.update(
        {s.discovery_path: Reply(body=b"{", headers={"Content-Length": "100"})}
    ),
    "discovery naming a plain-http remote JWKS": lambda s: s.replies.update(
        {s.discovery_path: Reply.json({"issuer": s.issuer, "jwks_uri": "http://keys.example.com/jwks"})}
    ),
}


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def provider(jwks_server: JwksServer, rsa_signing_key: SigningKey) -> JwksServer:
    jwks_server.publish(jwks_of(rsa_signing_key))
    # Served, so that following a redirect would succeed and be counted.
    jwks_server.replies[REDIRECT_TARGET] = Reply.json(jwks_of(rsa_signing_key))
    return jwks_server


@pytest.fixture
def handler(provider: JwksServer, monkeypatch: pytest.MonkeyPatch, clock: SteppingClock) -> ModuleType:
    handler = load_handler(monkeypatch, provider.issuer, **SETTINGS)
    install_clocks(handler, clock, clock.wall)
    return handler


@pytest.fixture
def watch(handler: ModuleType) -> Iterator[LogWatch]:
    with watching_logs(handler.SERVICE_NAME) as watch:
        yield watch


class Caller:
    def __init__(self, handler: ModuleType, watch: LogWatch, clock: SteppingClock) -> None:
        self.handler, self.watch, self.clock = handler, watch, clock

    def token(self, key: SigningKey, issuer: str) -> str:
        return mint(key, claims_for(issuer, now=self.clock.wall()))

    def __call__(self, token: str) -> Outcome:
        self.watch.remember(f"Bearer {token}")
        found, detail = classify(
            lambda e: self.handler.lambda_handler(e, None), token_event(f"Bearer {token}")
        )
        assert found is not Outcome.BUG, repr(detail)
        return found

    def messages(self) -> list[str]:
        return [json.loads(line)["message"] for line in self.watch.stream.getvalue().splitlines()]


@pytest.fixture
def call(handler: ModuleType, watch: LogWatch, clock: SteppingClock) -> Caller:
    return Caller(handler, watch, clock)


def _assert_nothing_leaked(
    call: Caller, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    assert call.watch.leaks(capsys.readouterr().out, caplog.text) == []


@pytest.mark.parametrize("fault", list(FAST_JWKS_FAULTS) + list(DISCOVERY_FAULTS))
def test_a_cold_start_during_a_provider_fault_fails_closed_and_retries_once_per_cooldown(
    fault: str,
    call: Caller,
    provider: JwksServer,
    rsa_signing_key: SigningKey,
    clock: SteppingClock,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    (FAST_JWKS_FAULTS | DISCOVERY_FAULTS)[fault](provider)
    token = call.token(rsa_signing_key, provider.issuer)
    # A server error, never 401, never Allow; and again within the cooldown without asking the provider.
    assert call(token) is Outcome.UNAVAILABLE
    hits = sum(provider.hits.values())
    clock.advance(COOLDOWN - 1)
    assert call(token) is Outcome.UNAVAILABLE
    assert sum(provider.hits.values()) == hits
    # After the cooldown, one more attempt.
    clock.advance(1)
    assert call(token) is Outcome.UNAVAILABLE
    assert sum(provider.hits.values()) == 2 * hits
    assert provider.hits[REDIRECT_TARGET] == 0
    # Logged as a failed fetch, not as a bug in the authorizer.
    assert set(call.messages()) == {"JWKS fetch failed", "keys unavailable: failing closed"}
    _assert_nothing_leaked(call, capsys, caplog)


@pytest.mark.parametrize("fault", list(FAST_JWKS_FAULTS))
def test_during_a_provider_fault_after_warm_up_cached_keys_serve_up_to_max_staleness_then_fail_closed(
    fault: str,
    call: Caller,
    provider: JwksServer,
    rsa_signing_key: SigningKey,
    clock: SteppingClock,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a warm authorizer
    assert call(call.token(rsa_signing_key, provider.issuer)) is Outcome.ALLOW
    # When the provider breaks and the keys' cache time runs out
    FAST_JWKS_FAULTS[fault](provider)
    clock.advance(TTL)
    # Then the cached keys keep serving, with one refresh attempt per cooldown
    for _ in range(MAX_STALE // COOLDOWN):
        assert call(call.token(rsa_signing_key, provider.issuer)) is Outcome.ALLOW
        clock.advance(COOLDOWN - 0.001)
    assert provider.jwks_fetches == 1 + MAX_STALE // COOLDOWN
    assert provider.hits[REDIRECT_TARGET] == 0
    # And past the maximum staleness the authorizer fails closed with a server error
    clock.advance(MAX_STALE)
    assert call(call.token(rsa_signing_key, provider.issuer)) is Outcome.UNAVAILABLE
    assert "authorizer failed unexpectedly: failing closed" not in call.messages()
    _assert_nothing_leaked(call, capsys, caplog)


def test_when_the_provider_stops_listening_cached_keys_serve_then_fail_closed(
    call: Caller, provider: JwksServer, rsa_signing_key: SigningKey, clock: SteppingClock
) -> None:
    assert call(call.token(rsa_signing_key, provider.issuer)) is Outcome.ALLOW
    provider.stop()  # connections to its port are now refused
    clock.advance(TTL)
    assert call(call.token(rsa_signing_key, provider.issuer)) is Outcome.ALLOW
    clock.advance(MAX_STALE)
    assert call(call.token(rsa_signing_key, provider.issuer)) is Outcome.UNAVAILABLE
    assert call.messages().count("JWKS fetch failed") == 2


def test_a_cold_start_against_a_closed_port_fails_closed(
    monkeypatch: pytest.MonkeyPatch, rsa_signing_key: SigningKey, clock: SteppingClock
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        issuer = f"http://127.0.0.1:{probe.getsockname()[1]}/issuer"
    handler = load_handler(monkeypatch, issuer, **SETTINGS)
    install_clocks(handler, clock, clock.wall)
    with watching_logs(handler.SERVICE_NAME) as watch:
        call = Caller(handler, watch, clock)
        assert call(call.token(rsa_signing_key, issuer)) is Outcome.UNAVAILABLE
        assert call.messages() == ["JWKS fetch failed", "keys unavailable: failing closed"]


# Slow providers: these run on the real timeouts (1 s connect, 1.5 s read, 2.5 s per refresh).


@pytest.mark.parametrize(
    "reply",
    [
        pytest.param(
            Reply(body=b'{"keys": []}', delay_seconds=2.0), id="headers later than the read timeout"
        ),
        pytest.param(
            Reply(body=b'{"keys": []}', drip_seconds=2.0), id="a body byte later than the read timeout"
        ),
        pytest.param(
            Reply(body=b'{"keys": [' + b" " * 100 + b"]}", drip_seconds=0.05), id="a drip past the budget"
        ),
    ],
)
def test_a_slow_provider_at_cold_start_fails_closed_within_the_timeouts(
    reply: Reply, call: Caller, provider: JwksServer, rsa_signing_key: SigningKey
) -> None:
    provider.replies[provider.jwks_path] = reply
    token = call.token(rsa_signing_key, provider.issuer)
    assert call(token) is Outcome.UNAVAILABLE
    assert call(token) is Outcome.UNAVAILABLE  # within the cooldown: answered without waiting again
    assert provider.jwks_fetches == 1
    assert set(call.messages()) == {"JWKS fetch failed", "keys unavailable: failing closed"}


# Key rotation ------------------------------------------------------------------------------------------


def test_a_new_kid_is_accepted_after_exactly_one_refetch(
    call: Caller, provider: JwksServer, rsa_signing_key: SigningKey, rotated_rsa_key: SigningKey
) -> None:
    assert call(call.token(rsa_signing_key, provider.issuer)) is Outcome.ALLOW
    provider.publish(jwks_of(rsa_signing_key, rotated_rsa_key))
    for _ in range(5):
        assert call(call.token(rotated_rsa_key, provider.issuer)) is Outcome.ALLOW
        assert call(call.token(rsa_signing_key, provider.issuer)) is Outcome.ALLOW
    assert provider.jwks_fetches == 2
    assert provider.hits[provider.discovery_path] == 1


def test_a_removed_kid_is_refused_once_the_cache_refreshes(
    call: Caller,
    provider: JwksServer,
    rsa_signing_key: SigningKey,
    rotated_rsa_key: SigningKey,
    clock: SteppingClock,
) -> None:
    assert call(call.token(rsa_signing_key, provider.issuer)) is Outcome.ALLOW
    provider.publish(jwks_of(rotated_rsa_key))
    # Until the keys are refreshed the old key still verifies (nobody asked the provider yet)
    clock.advance(TTL - 1)
    assert call(call.token(rsa_signing_key, provider.issuer)) is Outcome.ALLOW
    # Once the cache time runs out, the refreshed set no longer has it
    clock.advance(1)
    assert call(call.token(rsa_signing_key, provider.issuer)) is Outcome.UNAUTHORIZED
    assert call(call.token(rotated_rsa_key, provider.issuer)) is Outcome.ALLOW
    assert provider.jwks_fetches == 2


def test_a_removed_kid_is_refused_as_soon_as_a_new_kid_forces_a_refresh(
    call: Caller, provider: JwksServer, rsa_signing_key: SigningKey, rotated_rsa_key: SigningKey
) -> None:
    assert call(call.token(rsa_signing_key, provider.issuer)) is Outcome.ALLOW
    provider.publish(jwks_of(rotated_rsa_key))
    assert call(call.token(rotated_rsa_key, provider.issuer)) is Outcome.ALLOW
    assert call(call.token(rsa_signing_key, provider.issuer)) is Outcome.UNAUTHORIZED
    assert provider.jwks_fetches == 2


def test_a_broken_key_next_to_good_ones_is_skipped_without_losing_the_set(
    call: Caller, provider: JwksServer, rsa_signing_key: SigningKey
) -> None:
    provider.publish(
        {
            "keys": [
                _rsa_jwk(kid="odd", alg=["RS256"]),
                {"kty": "EC", "crv": ["P-256"], "kid": "ec"},
                {"kty": "OKP", "crv": {"Ed25519": 1}, "kid": "ed"},
                rsa_signing_key.public_jwk(),
            ]
        }
    )
    assert call(call.token(rsa_signing_key, provider.issuer)) is Outcome.ALLOW
    assert provider.jwks_fetches == 1
