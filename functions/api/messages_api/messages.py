"""The sample messages: a fixed list to read, and the validation of a new one.

Nothing is stored: a created message is echoed back. A real API would write it to a table here.
"""

from __future__ import annotations

import binascii
import json
import uuid
from base64 import b64decode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from messages_api.errors import InvalidRequest

MAX_TEXT_CHARS = 500
#: Room for any valid message, even with every character \u-escaped; a larger body is refused unparsed.
MAX_BODY_BYTES = 8_192


@dataclass(frozen=True)
class Message:
    id: str
    text: str
    author: str
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "author": self.author,
            "createdAt": self.created_at.isoformat().replace("+00:00", "Z"),
        }


SAMPLE_MESSAGES = (
    Message(
        "0b7f2c1e-3d4a-4f5b-9c6d-7e8f9a0b1c2d",
        "Welcome to the messages API.",
        "system",
        datetime(2025, 1, 6, 9, 0, tzinfo=UTC),
    ),
    Message(
        "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
        "Reading needs messages:read; posting, messages:write.",
        "system",
        datetime(2025, 1, 6, 9, 5, tzinfo=UTC),
    ),
)


def read_new_message_text(body: str | None, base64_encoded: bool = False) -> str:
    """The `text` of a POST /messages body: a JSON object with a non-empty string of bounded length."""
    if not body:
        raise InvalidRequest("The body must be a JSON object with a 'text' string")
    try:
        raw = b64decode(body, validate=True) if base64_encoded else body.encode("utf-8")
    except (binascii.Error, ValueError):
        raise InvalidRequest("The body is not valid base64") from None
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidRequest(f"The body must be at most {MAX_BODY_BYTES} bytes")
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise InvalidRequest("The body is not valid JSON") from None
    if not isinstance(document, dict):
        raise InvalidRequest("The body must be a JSON object with a 'text' string")
    if "text" not in document:
        raise InvalidRequest("'text' is required")
    text = document["text"]
    if not isinstance(text, str):
        raise InvalidRequest("'text' must be a string")
    text = text.strip()
    if not text:
        raise InvalidRequest("'text' must not be empty")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidRequest(f"'text' must be at most {MAX_TEXT_CHARS} characters")
    return text


class MessageBoard:
    def __init__(
        self,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._clock = clock
        self._new_id = new_id

    def recent(self) -> list[Message]:
        return list(SAMPLE_MESSAGES)

    def create(self, text: str, author: str) -> Message:
        return Message(self._new_id(), text, author, self._clock().astimezone(UTC).replace(microsecond=0))
