from __future__ import annotations

from collections.abc import Iterator

import pytest

from devkit.clock import FakeClock
from devkit.jwks_server import JwksServer, running_jwks_server
from devkit.tokens import SigningKey, ec_key, ed448_key, ed25519_key, rsa_key


@pytest.fixture(scope="session")
def rsa_signing_key() -> SigningKey:
    return rsa_key("rsa-1")


@pytest.fixture(scope="session")
def rotated_rsa_key() -> SigningKey:
    return rsa_key("rsa-2")


@pytest.fixture(scope="session")
def weak_rsa_key() -> SigningKey:
    return rsa_key("rsa-weak", bits=1024)


@pytest.fixture(scope="session")
def ec_signing_key() -> SigningKey:
    return ec_key("ec-1")


@pytest.fixture(scope="session")
def ed25519_signing_key() -> SigningKey:
    return ed25519_key("ed-1")


@pytest.fixture(scope="session")
def ed448_signing_key() -> SigningKey:
    return ed448_key("ed448-1")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    with running_jwks_server() as server:
        yield server


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by the folder it lives in: unit, integration or e2e."""
    for item in items:
        for marker in ("unit", "integration", "e2e"):
            if f"tests/{marker}/" in item.path.as_posix():
                item.add_marker(getattr(pytest.mark, marker))
