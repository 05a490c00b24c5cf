"""The replay store on the template's DynamoDB table (moto): each proof once, fail closed when unreachable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from jwt_authorizer import DynamoDbReplayStore, VerificationUnavailable, VerifiedProof, replay_key
from tests.support.messages_table import REGION
from tests.support.replay_table import REPLAY_TABLE, create_replay_table

pytestmark = pytest.mark.integration

PROOF = VerifiedProof("jti-1", "thumbprint-a", 1_800_000_000, 1_800_000_060)


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_replay_table(client)
        yield client


def test_the_template_table_keys_on_the_proof_and_expires_it_by_ttl(dynamodb: Any) -> None:
    described = dynamodb.describe_table(TableName=REPLAY_TABLE)["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=REPLAY_TABLE)["TimeToLiveDescription"]

    assert described["KeySchema"] == [{"AttributeName": "proof", "KeyType": "HASH"}]
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert ttl == {"AttributeName": "expires_at", "TimeToLiveStatus": "ENABLED"}


def test_a_proof_is_accepted_once(dynamodb: Any) -> None:
    store = DynamoDbReplayStore(REPLAY_TABLE, dynamodb)

    assert [store.first_use(PROOF), store.first_use(PROOF), store.first_use(PROOF)] == [True, False, False]
    item = dynamodb.get_item(TableName=REPLAY_TABLE, Key={"proof": {"S": replay_key(PROOF)}})["Item"]
    assert item == {"proof": {"S": "thumbprint-a jti-1"}, "expires_at": {"N": "1800000061"}}


def test_the_same_jti_under_another_key_is_another_proof(dynamodb: Any) -> None:
    store = DynamoDbReplayStore(REPLAY_TABLE, dynamodb)

    assert store.first_use(PROOF)
    assert store.first_use(PROOF._replace(thumbprint="thumbprint-b"))
    assert not store.first_use(PROOF._replace(thumbprint="thumbprint-b"))


def test_a_missing_table_fails_closed(dynamodb: Any) -> None:
    store = DynamoDbReplayStore("NoSuchTable", dynamodb)

    with pytest.raises(VerificationUnavailable) as caught:
        store.first_use(PROOF)
    assert caught.value.issuer == "dpop-replay-table"
    assert "ResourceNotFoundException" in caught.value.detail


def test_an_unreachable_endpoint_fails_closed() -> None:
    # A port on this machine where nothing listens: the connection is refused at once.
    client = boto3.client(
        "dynamodb",
        region_name=REGION,
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 1}),
    )
    store = DynamoDbReplayStore(REPLAY_TABLE, client)

    with pytest.raises(VerificationUnavailable) as caught:
        store.first_use(PROOF)
    assert "EndpointConnectionError" in caught.value.detail
