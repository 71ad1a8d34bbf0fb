"""The narrow boundary between the monitor and Telegram: TL requests in, TL results out, raw TL
updates as a stream. `TelethonBoundary` wraps a built `telethon.TelegramClient` (part of the
login work builds it with `flood_sleep_threshold=0`, so every FloodWaitError reaches the
monitor); tests put a fake with the same four methods in its place."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Protocol

from telethon import events


class Boundary(Protocol):
    """What the monitor needs of one signed-in account."""

    async def connect(self) -> None:
        """Connect (raises ConnectionError/OSError when Telegram cannot be reached)."""

    async def disconnect(self) -> None: ...

    def is_connected(self) -> bool: ...

    async def call(self, request: Any) -> Any:
        """Send one TL request (`telethon.tl.functions…`) and return its TL result; Telegram's
        errors are raised as Telethon's (`FloodWaitError`, `ChannelPrivateError` …)."""

    def updates(self) -> AsyncIterator[tuple[Any, list]]:
        """Raw TL updates as they arrive, each with the chats that came with it; `(None, [])`
        says updates were lost (the monitor then backfills joined channels)."""


class TelethonBoundary:
    """The real boundary: a thin layer over one `TelegramClient`."""

    def __init__(self, client, queue_size: int = 10_000, check_every: float = 5.0) -> None:
        self.client = client
        self.check_every = check_every
        self._queue: asyncio.Queue = asyncio.Queue(maxsize=queue_size)
        self._lost = False
        client.add_event_handler(self._on_raw, events.Raw)

    async def connect(self) -> None:
        """Connect within a bound; TelegramUnreachable (a ConnectionError) names the route."""
        from monitors.telegram.connection import connect

        await connect(self.client)

    async def disconnect(self) -> None:
        await self.client.disconnect()

    def is_connected(self) -> bool:
        return self.client.is_connected()

    async def call(self, request: Any) -> Any:
        return await self.client(request)

    async def _on_raw(self, update) -> None:
        entities = getattr(update, "_entities", None) or {}
        chats = [entity for entity in entities.values() if hasattr(entity, "title")]
        try:
            self._queue.put_nowait((update, chats))
        except asyncio.QueueFull:
            self._lost = True  # the monitor backfills joined channels from their cursors

    async def updates(self) -> AsyncIterator[tuple[Any, list]]:
        """Telethon reconnects by itself, and updates sent meanwhile may never come: a
        connection seen down and then up again is reported as lost updates."""
        while True:
            try:
                item = await asyncio.wait_for(self._queue.get(), timeout=self.check_every)
            except asyncio.TimeoutError:
                if not self.client.is_connected():
                    self._lost = True
                elif self._lost:
                    self._lost = False
                    yield None, []
                continue
            if self._lost:
                self._lost = False
                yield None, []
            yield item
