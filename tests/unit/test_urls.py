"""The rule for URLs learned at run time: https to a public destination, or a configured URL's origin."""

from __future__ import annotations

import pytest

from jwt_authorizer.urls import is_internal_host, learned_url_problem, origins_of, url_form_problem

CONFIGURED = origins_of(["http://127.0.0.1:3001", "https://login.example.com/tenant/v2.0", None])


@pytest.mark.parametrize(
    "url",
    [
        "https://login.example.com/tenant/discovery/keys",
        "https://keys.example.net/jwks",
        "https://8.8.8.8/jwks",
        "https://[2001:4860:4860::8888]/jwks",
        # The configured origins, however they are spelled
        "http://127.0.0.1:3001/.well-known/jwks.json",
        "HTTP://127.0.0.1:3001/jwks",
        "https://LOGIN.example.com:443/keys",
        "https://login.example.com./keys",
    ],
)
def test_a_learned_url_may_be_public_https_or_on_a_configured_origin(url: str) -> None:
    assert learned_url_problem(url, CONFIGURED) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://keys.example.net/jwks",
        "http://127.0.0.1:3002/jwks",  # loopback, but not the configured port
        "http://127.0.0.1/jwks",
        "http://login.example.com/keys",  # the configured host, but plain http
        "ftp://keys.example.net/jwks",
    ],
)
def test_a_learned_url_on_plain_http_is_refused_unless_on_a_configured_origin(url: str) -> None:
    assert learned_url_problem(url, CONFIGURED) == (
        "must use https: plain http is allowed only for the configured ISSUER and JWKS_URI, and the host"
        " and port they name"
    )


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1", "127.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "::1", "::ffff:127.0.0.1",
        "0.0.0.0", "10.1.2.3",  # noqa: S104 - a host named, not bound "172.16.0.1", "172.17.0.1", "192.168.0.1", "100.64.0.1", "169.254.169.254",
        "169.254.170.2", "fe80::1", "fe80::1%eth0", "fd00:ec2::254", "224.0.0.1", "255.255.255.255",
        "240.0.0.1", "localhost", "LOCALHOST", "localhost.", "api.localhost", "host.docker.internal",
        "ec2.internal", "printer.local", "router.home.arpa",
    ],
)  # fmt: skip
def test_loopback_private_link_local_and_reserved_destinations_are_internal(host: str) -> None:
    assert is_internal_host(host)
    assert learned_url_problem(f"https://{'[' + host + ']' if ':' in host else host}/jwks", CONFIGURED) == (
        "must not name a loopback, link-local or private address, nor a name reserved for one"
    )


@pytest.mark.parametrize(
    "host", ["8.8.8.8", "2001:4860:4860::8888", "login.example.com", "internal.example", "localhost.example"]
)
def test_public_addresses_and_ordinary_names_are_not(host: str) -> None:
    # A DNS name is not resolved: `internal.example` may well point at a private address (docs/security.md).
    assert not is_internal_host(host)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://keys.example.com/jwks", "must use https"),
        ("ftp://127.0.0.1/jwks", "must use https"),
        ("https://u:p@keys.example.com/", "must not carry credentials"),
        ("https://keys.example.com/jwks#frag", "must not have a fragment"),
        ("https:///jwks", "has no host"),
        ("https://keys.example.com:99999/", "is not a valid URL"),
        ("http://127.0.0.1:3001/jwks", None),
        ("http://host.docker.internal:3001/jwks", None),
        ("https://keys.example.com/jwks", None),
    ],
)
def test_the_fetcher_refuses_what_no_rule_could_allow(url: str, problem: str | None) -> None:
    assert url_form_problem(url) == problem
