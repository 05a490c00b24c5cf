"""moto's server as the local stack runs it: on 127.0.0.1, with the template's table, gone when stopped."""

from __future__ import annotations

import socket

import pytest

from local.dynamodb import LocalDynamoDB
from local.serving import PortUnavailable
from tests.support.messages_table import template_tables


def test_it_serves_the_templates_table_over_http_and_drops_it_when_stopped() -> None:
    dynamodb = LocalDynamoDB("127.0.0.1", 0)
    dynamodb.start()
    try:
        assert dynamodb.url.startswith("http://127.0.0.1:")
        dynamodb.create_tables(template_tables())
        client = dynamodb.client()
        client.put_item(TableName="MessagesTable", Item={"id": {"S": "a"}, "feed": {"S": "messages"}})
        assert client.scan(TableName="MessagesTable")["Count"] == 1
    finally:
        dynamodb.stop()

    # moto keeps its tables per process: a new server starts afresh, not with the old data.
    again = LocalDynamoDB("127.0.0.1", 0)
    again.start()
    try:
        again.create_tables(template_tables())
        assert again.client().scan(TableName="MessagesTable")["Count"] == 0
    finally:
        again.stop()


def test_a_port_in_use_stops_it_with_a_message_instead_of_hanging() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        with pytest.raises(PortUnavailable, match=f"^127.0.0.1:{port} is in use"):
            LocalDynamoDB("127.0.0.1", port)
