"""The replay store: each DPoP proof is accepted once (RFC 9449 section 11.1).

A proof is remembered by its key's thumbprint and its `jti` (two clients may pick the same `jti`; one
client never should) in a DynamoDB table, with a conditional write: the first request to write the item
wins, every later one finds it and is refused, whichever Lambda container it reaches. The item carries a
TTL attribute at the end of the proof's `iat` window, past which the proof would be refused for its age
anyway, so DynamoDB may delete it whenever it likes (its TTL deletes lag by up to days; the table only
grows by what the window admits).

When the table cannot be reached the store raises `VerificationUnavailable`: the authorizer fails closed
with the same 5xx as an identity provider outage, never accepting a proof it could not record.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from .dpop import VerifiedProof
from .errors import VerificationUnavailable

#: The table's partition key and TTL attribute (template.yaml's DpopReplayTable names the same).
KEY_ATTRIBUTE = "proof"
TTL_ATTRIBUTE = "expires_at"
#: What the telemetry names as unavailable when the table cannot be reached.
REPLAY_STORE = "dpop-replay-table"


class ReplayStore(Protocol):
    def first_use(self, proof: VerifiedProof) -> bool:
        """True the first time this proof is presented, False after; VerificationUnavailable if unknown."""


def replay_key(proof: VerifiedProof) -> str:
    # The thumbprint is base64url (no space); the jti is bounded by dpop.MAX_JTI_LENGTH.
    return f"{proof.thumbprint} {proof.jti}"


class DynamoDbReplayStore:
    """The replay store on a DynamoDB table, through a boto3 client made with short timeouts."""

    def __init__(self, table_name: str, client: Any) -> None:
        self._table_name = table_name
        self._client = client

    @classmethod
    def connect(cls, table_name: str, endpoint_url: str | None = None) -> DynamoDbReplayStore:
        import boto3
        from botocore.config import Config

        # One attempt and one retry within about 2 s: the caller waits behind this write.
        config = Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 2, "mode": "standard"})
        return cls(table_name, boto3.client("dynamodb", endpoint_url=endpoint_url, config=config))

    def first_use(self, proof: VerifiedProof) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        item = {
            KEY_ATTRIBUTE: {"S": replay_key(proof)},
            TTL_ATTRIBUTE: {"N": str(math.ceil(proof.acceptable_until) + 1)},
        }
        try:
            self._client.put_item(
                TableName=self._table_name,
                Item=item,
                ConditionExpression="attribute_not_exists(#proof)",
                ExpressionAttributeNames={"#proof": KEY_ATTRIBUTE},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise VerificationUnavailable(REPLAY_STORE, _describe(error)) from None
        except BotoCoreError as error:
            raise VerificationUnavailable(REPLAY_STORE, _describe(error)) from None
        return True


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {str(error)[:200]}"
