"""The JWKS cache's network behaviour against a real provider stand-in on 127.0.0.1."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from devkit.clock import FakeClock
from devkit.jwks_server import JwksServer, Reply
from devkit.tokens import SigningKey, jwks_of
from jwt_authorizer import (
    HttpJsonFetcher,
    JwksCache,
    JwksFetchError,
    JwksLoader,
    Settings,
    TokenRejected,
    VerificationUnavailable,
    parse_jwks,
)

ALGORITHMS = frozenset({"RS256"})


def loader(server: JwksServer, budget: float = 2.5, jwks_uri: str | None = None) -> JwksLoader:
    return JwksLoader(server.issuer, HttpJsonFetcher(), ALGORITHMS, jwks_uri=jwks_uri, budget_seconds=budget)


def http_cache(server: JwksServer, clock: FakeClock, **settings: str) -> JwksCache:
    configured = Settings.from_env({"ISSUER": server.issuer, "AUDIENCE": "a", **settings})
    return JwksCache(
        JwksLoader(server.issuer, HttpJsonFetcher(), ALGORITHMS, configured.jwks_uri),
        server.issuer,
        ttl=configured.jwks_cache_seconds,
        cooldown=configured.jwks_cooldown_seconds,
        max_stale=configured.jwks_max_stale_seconds,
        clock=clock,
    )


def fetch_error(server: JwksServer, **kwargs: Any) -> str:
    with pytest.raises(JwksFetchError) as raised:
        loader(server, **kwargs)()
    return str(raised.value)


def test_keys_are_located_by_discovery_once_then_fetched_from_the_jwks_uri(
    jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> None:
    jwks_server.publish(jwks_of(rsa_signing_key))
    load = loader(jwks_server)
    assert list(load().keys) == ["rsa-1"]
    assert list(load().keys) == ["rsa-1"]
    assert jwks_server.hits == {jwks_server.discovery_path: 1, jwks_server.jwks_path: 2}


def test_the_loader_returns_the_keys_it_parsed_and_the_ones_it_skipped(
    jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> None:
    jwks_server.publish(
        {"keys": [rsa_signing_key.public_jwk(), {"kty": "oct", "kid": "shared", "k": "c2VjcmV0"}]}
    )

    parsed = loader(jwks_server)()

    assert list(parsed.keys) == ["rsa-1"]
    assert [line.split(":")[0] for line in parsed.skipped] == ["key #1 (kid 'shared')"]


def test_a_configured_jwks_uri_skips_discovery(jwks_server: JwksServer, rsa_signing_key: SigningKey) -> None:
    jwks_server.publish(jwks_of(rsa_signing_key))
    assert list(loader(jwks_server, jwks_uri=jwks_server.base_url + jwks_server.jwks_path)().keys) == [
        "rsa-1"
    ]
    assert jwks_server.hits == {jwks_server.jwks_path: 1}


def test_discovery_for_another_issuer_is_refused(
    jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> None:
    jwks_server.publish(jwks_of(rsa_signing_key), issuer="https://evil.example.com")
    assert "names issuer 'https://evil.example.com'" in fetch_error(jwks_server)
    assert jwks_server.jwks_fetches == 0


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply.json({"keys": []}, status=500), "answered HTTP 500"),
        (Reply.json({}, status=503), "answered HTTP 503"),
        (Reply(body=b"<html>"), "did not return valid JSON"),
        (Reply.json({"no": "keys"}), "not a JSON object with a 'keys' array"),
        (Reply.json({"keys": [{"kty": "oct", "kid": "k", "k": "AAAA"}]}), "no usable signing key"),
        (Reply(body=b"{" + b" " * 150_000 + b"}"), "over the 150000 limit"),
        (
            Reply(body=b"{" + b" " * 150_000 + b"}", headers={"Transfer-Encoding": "chunked"}),
            "more than the 150000-byte limit",
        ),
        (Reply(body=b"{}", headers={"Content-Encoding": "gzip"}), "encoded body"),
        (Reply(close_without_answer=True), "could not be fetched"),
    ],
)
def test_a_bad_jwks_response_is_a_fetch_failure(jwks_server: JwksServer, reply: Reply, message: str) -> None:
    jwks_server.publish({"keys": []})
    if "Transfer-Encoding" in reply.headers:
        reply.body = _chunked(reply.body)
    jwks_server.replies[jwks_server.jwks_path] = reply
    assert message in fetch_error(jwks_server)


def _chunked(body: bytes) -> bytes:
    chunks = [body[i : i + 8_192] for i in range(0, len(body), 8_192)]
    return b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"


def test_redirects_are_never_followed(jwks_server: JwksServer, rsa_signing_key: SigningKey) -> None:
    jwks_server.publish(jwks_of(rsa_signing_key))
    jwks_server.replies["/issuer/moved"] = Reply.json(jwks_of(rsa_signing_key))
    jwks_server.replies[jwks_server.jwks_path] = Reply(
        status=302, headers={"Location": f"{jwks_server.base_url}/issuer/moved"}
    )
    assert "answered HTTP 302" in fetch_error(jwks_server)
    assert jwks_server.hits["/issuer/moved"] == 0


def test_a_slow_provider_is_cut_off_by_the_refresh_budget(
    jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> None:
    jwks_server.publish(jwks_of(rsa_signing_key))
    jwks_server.replies[jwks_server.jwks_path].delay_seconds = 2.0
    assert "could not be fetched (ReadTimeout)" in fetch_error(jwks_server, budget=0.3)


def test_a_slow_drip_body_is_cut_off_by_the_refresh_budget(
    jwks_server: JwksServer, rsa_signing_key: SigningKey
) -> None:
    jwks_server.publish(jwks_of(rsa_signing_key))
    jwks_server.replies[jwks_server.jwks_path].drip_seconds = 0.05
    assert "too slow" in fetch_error(jwks_server, budget=0.3)


def test_a_refused_connection_is_a_fetch_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    issuer = f"http://127.0.0.1:{port}"
    with pytest.raises(JwksFetchError, match="could not be fetched"):
        JwksLoader(issuer, HttpJsonFetcher(), ALGORITHMS)()


@pytest.mark.parametrize(
    "url",
    ["http://keys.example.com/jwks", "ftp://127.0.0.1/jwks", "file:///etc/passwd", "https://u:p@x.example/"],
)
def test_non_https_urls_are_never_fetched(url: str) -> None:
    with pytest.raises(JwksFetchError, match="refusing to fetch"):
        HttpJsonFetcher().get_json(url, deadline=float("inf"))


def test_a_discovered_jwks_uri_must_be_https_too(jwks_server: JwksServer) -> None:
    jwks_server.replies[jwks_server.discovery_path] = Reply.json(
        {"issuer": jwks_server.issuer, "jwks_uri": "http://keys.example.com/jwks"}
    )
    assert fetch_error(jwks_server) == (
        "refusing the discovery document's jwks_uri 'http://keys.example.com/jwks': it must use https:"
        " plain http is allowed only for the configured ISSUER and JWKS_URI, and the host and port they name"
    )


# The cache over HTTP, counting what reaches the provider ------------------------------------------------


def test_over_http_the_jwks_is_fetched_once_per_cache_period(
    jwks_server: JwksServer, rsa_signing_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.publish(jwks_of(rsa_signing_key))
    cache = http_cache(jwks_server, clock, JWKS_CACHE_SECONDS="300")
    for _ in range(100):
        cache.keys_for("rsa-1")
        clock.advance(5.99)
    assert jwks_server.jwks_fetches == 2  # 599 s elapsed: a cold start and one refresh at 300 s


def test_over_http_a_kid_flood_costs_one_fetch_per_cooldown(
    jwks_server: JwksServer, rsa_signing_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.publish(jwks_of(rsa_signing_key))
    cache = http_cache(jwks_server, clock, JWKS_COOLDOWN_SECONDS="30")
    cache.keys_for("rsa-1")
    for attempt in range(600):
        with pytest.raises(TokenRejected):
            cache.keys_for(f"flood-{attempt}")
        clock.advance(0.1)  # 60 s of flood
    assert jwks_server.jwks_fetches == 1 + 2


def test_over_http_a_rotation_is_picked_up_with_one_fetch(
    jwks_server: JwksServer, rsa_signing_key: SigningKey, rotated_rsa_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.publish(jwks_of(rsa_signing_key))
    cache = http_cache(jwks_server, clock)
    cache.keys_for("rsa-1")
    jwks_server.publish(jwks_of(rotated_rsa_key))
    assert [key.kid for key in cache.keys_for("rsa-2")] == ["rsa-2"]
    assert jwks_server.jwks_fetches == 2
    clock.advance(600)
    with pytest.raises(TokenRejected):
        cache.keys_for("rsa-1")


def test_over_http_an_outage_after_warm_up_serves_stale_keys_then_fails_closed(
    jwks_server: JwksServer, rsa_signing_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.publish(jwks_of(rsa_signing_key))
    cache = http_cache(jwks_server, clock, JWKS_CACHE_SECONDS="60", JWKS_MAX_STALE_SECONDS="600")
    cache.keys_for("rsa-1")
    jwks_server.replies[jwks_server.jwks_path] = Reply(status=503)
    clock.advance(60 + 599)
    assert [key.kid for key in cache.keys_for("rsa-1")] == ["rsa-1"]
    clock.advance(1)
    with pytest.raises(VerificationUnavailable):
        cache.keys_for("rsa-1")


def test_over_http_a_cold_start_during_an_outage_fails_closed(
    jwks_server: JwksServer, clock: FakeClock
) -> None:
    jwks_server.replies[jwks_server.discovery_path] = Reply(status=500)
    cache = http_cache(jwks_server, clock)
    for _ in range(5):
        with pytest.raises(VerificationUnavailable):
            cache.keys_for("rsa-1")
    assert jwks_server.hits[jwks_server.discovery_path] == 1


def test_parsing_happens_once_per_fetch_not_per_lookup(
    jwks_server: JwksServer, rsa_signing_key: SigningKey, clock: FakeClock
) -> None:
    jwks_server.publish(jwks_of(rsa_signing_key))
    cache = http_cache(jwks_server, clock)
    first = cache.keys_for("rsa-1")
    assert all(cache.keys_for("rsa-1")[0] is first[0] for _ in range(10))
    assert parse_jwks(jwks_of(rsa_signing_key), ALGORITHMS).keys["rsa-1"][0] is not first[0]
