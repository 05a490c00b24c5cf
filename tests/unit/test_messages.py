"""Message ids, cursors and page requests: the values the messages API reads from URLs and hands out."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from messages_api.errors import InvalidRequest
from messages_api.messages import (
    DEFAULT_PAGE_SIZE,
    PageRequest,
    decode_cursor,
    encode_cursor,
    new_message_id,
    parse_message_id,
    read_new_message_text,
)

MOMENT = datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)


def test_a_message_id_is_an_rfc_9562_uuid7_carrying_its_time_in_milliseconds() -> None:
    message_id = uuid.UUID(new_message_id(MOMENT, lambda n: b"\xff" * n))

    assert (message_id.version, message_id.variant) == (7, uuid.RFC_4122)
    assert message_id.int >> 80 == int(MOMENT.timestamp() * 1000)
    assert str(message_id) == "019b7ca9-8f2e-7fff-bfff-ffffffffffff"


def repeated(byte: int) -> Callable[[int], bytes]:
    return lambda size: bytes([byte]) * size


def test_ids_sort_as_text_by_creation_time_whatever_their_random_bits() -> None:
    times = [MOMENT + timedelta(milliseconds=n) for n in range(0, 5_000, 250)]
    ids = [new_message_id(moment, repeated(255 - i)) for i, moment in enumerate(times)]

    assert sorted(ids) == ids


def test_a_message_id_from_a_url_is_accepted_in_any_case_and_normalised() -> None:
    message_id = new_message_id(MOMENT)

    assert parse_message_id(message_id.upper()) == message_id


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "nope",
        str(uuid.uuid4()),
        "019b7ca9-8f2e-7fff-cfff-ffffffffffff",
        "019b7ca98f2e7fffbfffffffffffffff",
    ],
)
def test_anything_but_a_uuid7_is_not_a_message_id(raw: str | None) -> None:
    with pytest.raises(InvalidRequest, match="message ids are UUIDv7"):
        parse_message_id(raw)


def test_a_cursor_round_trips_to_the_id_it_names() -> None:
    message_id = new_message_id(MOMENT)

    assert decode_cursor(encode_cursor(message_id)) == message_id


def test_each_cursor_has_one_spelling() -> None:
    cursor = encode_cursor(new_message_id(MOMENT, bytes))
    # 22 base64url characters hold 132 bits for 128: the last one's 4 spare bits must be zero.
    spelled_otherwise = cursor[:-1] + "B"

    with pytest.raises(InvalidRequest):
        decode_cursor(spelled_otherwise)


def test_a_page_request_defaults_to_20_from_the_newest() -> None:
    assert PageRequest.from_query(None) == PageRequest(DEFAULT_PAGE_SIZE, None)
    assert PageRequest.from_query({"other": ["x", "y"]}) == PageRequest(DEFAULT_PAGE_SIZE, None)


def test_a_page_request_reads_its_limit_and_cursor() -> None:
    message_id = new_message_id(MOMENT)

    assert PageRequest.from_query({"limit": ["1"], "cursor": [encode_cursor(message_id)]}) == PageRequest(
        1, message_id
    )
    assert PageRequest.from_query({"limit": ["100"]}).limit == 100


def test_a_lone_surrogate_in_the_text_is_refused_before_it_reaches_the_store() -> None:
    with pytest.raises(InvalidRequest, match="lone surrogate"):
        read_new_message_text('{"text": "a\\ud800b"}')
