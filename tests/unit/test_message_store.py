"""The DynamoDB store on moto, with the template's own table definition: keys, index and conditions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from messages_api.errors import MessageNotFound, NotTheAuthor
from messages_api.identity import Identity
from messages_api.messages import Message, new_message_id
from messages_api.store import FEED, INDEX_NAME, MessageStore
from tests.support.messages_table import TABLE_NAME

START = datetime(2026, 3, 4, 5, 6, 7, 890_000, tzinfo=UTC)


@pytest.fixture
def store(messages_table: Any) -> MessageStore:
    return MessageStore(messages_table, TABLE_NAME)


ISSUER = "https://issuer.example.com"
ALICE = Identity(ISSUER, "alice")


def message(n: int, author: Identity = ALICE) -> Message:
    created = START + timedelta(milliseconds=n)
    return Message(new_message_id(created), f"message {n}", author.subject, author.issuer, created)


def test_a_stored_message_reads_back_equal(store: MessageStore) -> None:
    stored = message(1)
    store.put(stored)

    assert store.get(stored.id) == stored


def test_the_item_holds_the_feed_key_of_the_index_and_the_time_as_text(
    store: MessageStore, messages_table: Any
) -> None:
    stored = message(1)
    store.put(stored)

    item = messages_table.get_item(TableName=TABLE_NAME, Key={"id": {"S": stored.id}})["Item"]

    assert item == {
        "id": {"S": stored.id},
        "feed": {"S": FEED},
        "text": {"S": "message 1"},
        "author": {"S": "alice"},
        "authorIssuer": {"S": ISSUER},
        "createdAt": {"S": "2026-03-04T05:06:07.891Z"},
    }


def test_reading_a_missing_message_raises_not_found(store: MessageStore) -> None:
    with pytest.raises(MessageNotFound):
        store.get(message(1).id)


def test_pages_list_every_message_once_newest_first(store: MessageStore) -> None:
    stored = [message(n) for n in range(7)]
    for item in reversed(stored):  # written in any order: the ids sort them
        store.put(item)

    seen, after = [], None
    while True:
        page = store.newest(3, after)
        seen.append([m.text for m in page.messages])
        if page.last is None:
            break
        after = page.last

    assert seen == [
        ["message 6", "message 5", "message 4"],
        ["message 3", "message 2", "message 1"],
        ["message 0"],
    ]


def test_the_index_the_store_queries_is_the_templates(messages_table: Any) -> None:
    table = messages_table.describe_table(TableName=TABLE_NAME)["Table"]

    [index] = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == INDEX_NAME
    assert index["KeySchema"] == [
        {"AttributeName": "feed", "KeyType": "HASH"},
        {"AttributeName": "id", "KeyType": "RANGE"},
    ]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]


def test_its_author_deletes_a_message(store: MessageStore) -> None:
    stored = message(1)
    store.put(stored)

    store.delete(stored.id, author=ALICE)

    with pytest.raises(MessageNotFound):
        store.get(stored.id)


def test_someone_else_cannot_delete_it_and_it_stays(store: MessageStore) -> None:
    stored = message(1)
    store.put(stored)

    with pytest.raises(NotTheAuthor):
        store.delete(stored.id, author=Identity(ISSUER, "mallory"))

    assert store.get(stored.id) == stored


def test_the_same_subject_of_another_issuer_cannot_delete_it_and_it_stays(store: MessageStore) -> None:
    stored = message(1)
    store.put(stored)

    with pytest.raises(NotTheAuthor):
        store.delete(stored.id, author=Identity("https://other-issuer.example.com", "alice"))

    assert store.get(stored.id) == stored


def test_a_message_stored_without_an_issuer_reads_back_and_no_one_can_delete_it(
    store: MessageStore, messages_table: Any
) -> None:
    # Written before the issuer was recorded: its author is a `sub` of an issuer no one can name.
    stored = message(1)
    item = {"id": {"S": stored.id}, "feed": {"S": FEED}, "text": {"S": stored.text}, "author": {"S": "alice"}}
    messages_table.put_item(
        TableName=TABLE_NAME, Item=item | {"createdAt": {"S": "2026-03-04T05:06:07.891Z"}}
    )

    assert store.get(stored.id).to_json()["authorIssuer"] is None
    with pytest.raises(NotTheAuthor):
        store.delete(stored.id, author=ALICE)


def test_deleting_a_missing_message_raises_not_found(store: MessageStore) -> None:
    with pytest.raises(MessageNotFound):
        store.delete(message(1).id, author=ALICE)
