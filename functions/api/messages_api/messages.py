"""Messages: what one is, how the API reads a new one, its ids, and the pages of the newest first.

A message id is a UUIDv7 (RFC 9562): 48 bits of Unix time in milliseconds, then random bits. Its text
sorts by creation time, so the store's index of the newest messages sorts by id alone, with no ties.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import uuid
from base64 import b64decode
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from messages_api.errors import InvalidRequest

MAX_TEXT_CHARS = 500
#: Room for any valid message, even with every character \u-escaped; a larger body is refused unparsed.
MAX_BODY_BYTES = 8_192
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

_MESSAGE_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_ANY_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-([0-9a-f])[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$")
_ID_ADVICE = (
    "message ids are UUIDv7, as POST /messages returns them in 'id'"
    " (like 0190b2a4-5c2e-7d3f-9a1b-2c3d4e5f6a7b)"
)


@dataclass(frozen=True)
class Message:
    id: str
    text: str
    #: Who wrote it: the author's `sub`, of the issuer `author_issuer` (None only for a message stored
    #: before the issuer was recorded: it can no longer be deleted through the API).
    author: str
    author_issuer: str | None
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "author": self.author,
            "authorIssuer": self.author_issuer,
            "createdAt": timestamp(self.created_at),
        }


@dataclass(frozen=True)
class Page:
    messages: list[Message]
    #: The last message of this page when more may follow: where the next page starts after.
    last: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "messages": [message.to_json() for message in self.messages],
            "next": encode_cursor(self.last) if self.last is not None else None,
        }


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds, e.g. 2026-01-02T03:04:05.678Z (sorts as text)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# Ids --------------------------------------------------------------------------------------------------


def new_message_id(created_at: datetime, random_bytes: Callable[[int], bytes] = os.urandom) -> str:
    """A UUIDv7 for a message created at `created_at`: its first 48 bits are that time in milliseconds."""
    milliseconds = int(created_at.timestamp() * 1000)
    value = (milliseconds & (2**48 - 1)) << 80 | int.from_bytes(random_bytes(10)) & (2**80 - 1)
    value = value & ~(0xF << 76) | 0x7 << 76  # version 7
    value = value & ~(0x3 << 62) | 0x2 << 62  # the RFC 9562 variant
    return str(uuid.UUID(int=value))


def parse_message_id(raw: str | None) -> str:
    """A message id from a URL: a UUIDv7 in its usual text form (any case); anything else is a 400."""
    candidate = (raw or "").lower()
    if not _MESSAGE_ID.fullmatch(candidate):
        other = _ANY_UUID.fullmatch(candidate)
        if other is not None and other[1] != "7":  # a UUID, of a version this API never issues
            raise InvalidRequest(f"The message id is a UUID version {int(other[1], 16)}; {_ID_ADVICE}")
        raise InvalidRequest(f"The message id is not a UUIDv7: {_ID_ADVICE}")
    return candidate


# Pages ------------------------------------------------------------------------------------------------


def encode_cursor(last_id: str) -> str:
    """The opaque `next` value: the page's last id, as 22 base64url characters."""
    return base64.urlsafe_b64encode(uuid.UUID(last_id).bytes).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str) -> str:
    invalid = InvalidRequest("'cursor' is not a value this API returned as 'next'")
    if len(cursor) != 22 or not re.fullmatch(r"[A-Za-z0-9_-]+", cursor):
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "==")
    except (binascii.Error, ValueError):
        raise invalid from None
    last_id = str(uuid.UUID(bytes=raw))
    # Only the canonical spelling of a message id decodes: no second spelling of one cursor.
    if not _MESSAGE_ID.fullmatch(last_id) or encode_cursor(last_id) != cursor:
        raise invalid
    return last_id


@dataclass(frozen=True)
class PageRequest:
    limit: int
    after: str | None  # the id the page starts after, from the cursor

    @classmethod
    def from_query(cls, query: Mapping[str, Sequence[str]] | None) -> PageRequest:
        """`?limit=` (1 to 100, default 20) and `?cursor=` (a previous page's `next`), each at most once."""
        query = query or {}
        limit_text, cursor = _single(query, "limit"), _single(query, "cursor")
        limit = DEFAULT_PAGE_SIZE
        if limit_text is not None:
            if not limit_text.isascii() or not limit_text.isdigit() or len(limit_text) > 3:
                raise InvalidRequest(f"'limit' must be a whole number from 1 to {MAX_PAGE_SIZE}")
            limit = int(limit_text)
            if not 1 <= limit <= MAX_PAGE_SIZE:
                raise InvalidRequest(f"'limit' must be a whole number from 1 to {MAX_PAGE_SIZE}")
        return cls(limit, decode_cursor(cursor) if cursor is not None else None)


def _single(query: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = query.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise InvalidRequest(f"'{name}' must be given at most once")
    return values[0]


# New messages -----------------------------------------------------------------------------------------


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
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # JSON lets a lone surrogate through (\ud800); no store takes it
        raise InvalidRequest("'text' must be Unicode text (it has a lone surrogate)") from None
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidRequest(f"'text' must be at most {MAX_TEXT_CHARS} characters")
    return text
