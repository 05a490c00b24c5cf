from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devkit.clock import FakeClock
from devkit.jwks_server import JwksServer, running_jwks_server
from devkit.tokens import SigningKey, ec_key, ed448_key, ed25519_key, rsa_key
from tests.support.api_events import ROUTE_SCOPES
from tests.support.messages_table import REGION, TABLE_NAME, create_template_tables


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


@pytest.fixture(autouse=True)
def _no_key_prefetch(monkeypatch: pytest.MonkeyPatch) -> None:
    """No background key fetch at a handler's cold start, unless a test asks for one.

    A test that counts the JWKS server's requests, or changes its replies after the cold start, must
    not race a prefetch; the prefetch has its own tests (test_prefetch.py).
    """
    monkeypatch.setenv("JWKS_PREFETCH", "false")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    with running_jwks_server() as server:
        yield server


@pytest.fixture(scope="module")
def moto_dynamodb() -> Iterator[Any]:
    """moto's DynamoDB in this process, with the template's tables, for a module; a client to it."""
    credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**credentials, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}.items():
            patch.setenv(name, value)
        patch.delenv("AWS_SESSION_TOKEN", raising=False)
        patch.delenv("AWS_PROFILE", raising=False)
        with mock_aws():
            client = boto3.client("dynamodb", region_name=REGION)
            create_template_tables(client)
            yield client


@pytest.fixture
def messages_table(moto_dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The template's messages table on moto, empty; a client to it. TABLE_NAME names it."""
    monkeypatch.delenv("DYNAMODB_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("TABLE_NAME", TABLE_NAME)
    for page in moto_dynamodb.get_paginator("scan").paginate(TableName=TABLE_NAME, ProjectionExpression="id"):
        for item in page["Items"]:
            moto_dynamodb.delete_item(TableName=TABLE_NAME, Key={"id": item["id"]})
    return moto_dynamodb


@pytest.fixture
def protected_function(messages_table: Any, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The protected function's module, cold-started with the template's route table and the table."""
    monkeypatch.setenv("ROUTE_SCOPES", ROUTE_SCOPES)
    import protected_api

    protected_api.reset()
    return protected_api


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by the folder it lives in: unit, integration or e2e."""
    for item in items:
        for marker in ("unit", "integration", "e2e"):
            if f"tests/{marker}/" in item.path.as_posix():
                item.add_marker(getattr(pytest.mark, marker))
