"""The messages API's operations, over the store: new messages get their id and time here."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime

from messages_api.identity import Identity
from messages_api.messages import Message, Page, PageRequest, new_message_id
from messages_api.store import MessageStore


class MessageBoard:
    def __init__(
        self,
        store: MessageStore,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        random_bytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.store = store
        self._clock = clock
        self._random_bytes = random_bytes

    def post(self, text: str, author: Identity) -> Message:
        # Milliseconds, as in the id: the id's time and createdAt are one reading of the clock.
        now = self._clock().astimezone(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        message_id = new_message_id(now, self._random_bytes)
        message = Message(message_id, text, author.subject, author.issuer, now)
        self.store.put(message)
        return message

    def read(self, message_id: str) -> Message:
        return self.store.get(message_id)

    def newest(self, request: PageRequest) -> Page:
        return self.store.newest(request.limit, request.after)

    def delete(self, message_id: str, caller: Identity) -> None:
        self.store.delete(message_id, author=caller)
