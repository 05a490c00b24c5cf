"""The messages table in DynamoDB: four calls, each on the table or its one index, nothing else.

Table (template.yaml's MessagesTable): partition key `id`; a message's author is the pair `author` (its
`sub`) and `authorIssuer` (its `iss`), and only that pair may delete it. Index `newest-first`: partition
key `feed`, the same value on every message, and sort key `id`; ids are UUIDv7, so reading the index
backwards gives the newest messages first, and its keys (`feed`, `id`) are where a page ends.

Every failure of DynamoDB (throttling, a timeout, an error of the service) becomes `StoreUnavailable`
here, in one place; the handlers' error mapping answers it with a 503 and a log line.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from messages_api.errors import MessageNotFound, NotTheAuthor, StoreUnavailable
from messages_api.identity import Identity
from messages_api.messages import Message, Page, parse_timestamp, timestamp

INDEX_NAME = "newest-first"
#: The index's partition key value: every message is in the one feed it lists.
FEED = "messages"


@dataclass(frozen=True)
class StoreSettings:
    table_name: str
    #: Only for a local DynamoDB (make dev, sam local); unset in a deployed function.
    endpoint_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> StoreSettings:
        table_name = env.get("TABLE_NAME", "").strip()
        if not table_name:
            raise ValueError("TABLE_NAME is not set: the name of the messages table (template.yaml sets it)")
        endpoint = env.get("DYNAMODB_ENDPOINT_URL", "").strip()
        if endpoint and not endpoint.startswith(("http://", "https://")):
            raise ValueError(f"DYNAMODB_ENDPOINT_URL must be an http(s) URL, not {endpoint!r}")
        return cls(table_name, endpoint or None)


def dynamodb_client(settings: StoreSettings) -> Any:
    """A DynamoDB client whose calls end within the function's 5 s timeout, retries included."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=1,
        read_timeout=1,
        # One retry, with standard mode's backoff: a throttled call gets a second chance and the worst
        # case (two timed-out attempts and the backoff between them) stays under 4 s.
        retries={"mode": "standard", "total_max_attempts": 2},
    )
    return boto3.client("dynamodb", endpoint_url=settings.endpoint_url, config=config)


class MessageStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def put(self, message: Message) -> None:
        with _translated_errors("PutItem"):
            self._client.put_item(
                TableName=self._table,
                Item=_item(message),
                # A new id never overwrites a message, however unlikely a collision is.
                ConditionExpression="attribute_not_exists(id)",
            )

    def get(self, message_id: str) -> Message:
        with _translated_errors("GetItem"):
            answer = self._client.get_item(TableName=self._table, Key=_key(message_id))
        item = answer.get("Item")
        if item is None:
            raise MessageNotFound(message_id)
        return _message(item)

    def newest(self, limit: int, after: str | None = None) -> Page:
        """Up to `limit` messages, newest first, starting after the message `after`."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": INDEX_NAME,
            "KeyConditionExpression": "feed = :feed",
            "ExpressionAttributeValues": {":feed": {"S": FEED}},
            "ScanIndexForward": False,
            # One more than asked: when it comes back there is a next page, so the last page never
            # hands out a cursor that leads to an empty one.
            "Limit": limit + 1,
        }
        if after is not None:
            query["ExclusiveStartKey"] = {"feed": {"S": FEED}, **_key(after)}
        with _translated_errors("Query"):
            answer = self._client.query(**query)
        messages = [_message(item) for item in answer.get("Items", [])]
        if len(messages) > limit:
            return Page(messages[:limit], messages[limit - 1].id)
        # Fewer than asked and a LastEvaluatedKey: the query stopped at DynamoDB's 1 MB page size.
        last_key = answer.get("LastEvaluatedKey")
        return Page(messages, last_key["id"]["S"] if last_key else None)

    def delete(self, message_id: str, author: Identity) -> None:
        """Delete the message if `author` wrote it: MessageNotFound or NotTheAuthor otherwise.

        One conditional write decides, so the check and the delete cannot be separated by another
        request; on a failed condition DynamoDB returns the item, which tells the two cases apart. The
        subject and its issuer must both match: a message stored without an issuer matches no one.
        """
        try:
            with _translated_errors("DeleteItem", expected="ConditionalCheckFailedException"):
                self._client.delete_item(
                    TableName=self._table,
                    Key=_key(message_id),
                    ConditionExpression="author = :subject AND authorIssuer = :issuer",
                    ExpressionAttributeValues={
                        ":subject": {"S": author.subject},
                        ":issuer": {"S": author.issuer},
                    },
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as error:
            if "Item" in error.response:
                raise NotTheAuthor(message_id) from None
            raise MessageNotFound(message_id) from None


@contextmanager
def _translated_errors(operation: str, expected: str | None = None) -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", "Unknown"))
        if code == expected:
            raise
        raise StoreUnavailable(operation, code) from error
    except BotoCoreError as error:  # no answer at all: connection refused or reset, a timeout
        raise StoreUnavailable(operation, type(error).__name__) from error


def _key(message_id: str) -> dict[str, Any]:
    return {"id": {"S": message_id}}


def _item(message: Message) -> dict[str, Any]:
    item = {
        "id": {"S": message.id},
        "feed": {"S": FEED},
        "text": {"S": message.text},
        "author": {"S": message.author},
        "createdAt": {"S": timestamp(message.created_at)},
    }
    if message.author_issuer is not None:
        item["authorIssuer"] = {"S": message.author_issuer}
    return item


def _message(item: Mapping[str, Any]) -> Message:
    issuer = item.get("authorIssuer")
    return Message(
        id=item["id"]["S"],
        text=item["text"]["S"],
        author=item["author"]["S"],
        author_issuer=issuer["S"] if issuer is not None else None,
        created_at=parse_timestamp(item["createdAt"]["S"]),
    )
