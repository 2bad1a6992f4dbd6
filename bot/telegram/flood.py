"""Telegram's flood limits on top of python-telegram-bot's AIORateLimiter.

AIORateLimiter paces the whole bot (30 messages a second) and each group (20 a minute), and
retries after a 429 RetryAfter up to `max_retries` times (its default is 0: no retry). Two
things it leaves out are added here: the pace of a private chat (about one message a second,
with a short burst allowed), and a few retries after transient network errors and 5xx answers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)
MAX_CHAT_LIMITERS = 1024
NETWORK_BACKOFF_S = (0.5, 1.0, 2.0)

Callback = Callable[..., Coroutine[Any, Any, Any]]


class FloodLimiter(AIORateLimiter):
    def __init__(
        self,
        *,
        overall_per_second: float = 30,
        chat_burst: int = 3,
        chat_per_second: float = 1.0,
        max_retries: int = 3,
    ) -> None:
        super().__init__(
            overall_max_rate=overall_per_second, overall_time_period=1, max_retries=max_retries
        )
        self._chat_burst = chat_burst
        self._chat_period = chat_burst / chat_per_second
        self._chats: dict[int, AsyncLimiter] = {}
        self._network_retries = max_retries

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        if len(self._chats) > MAX_CHAT_LIMITERS:
            # Forget idle chats (their bucket is full again) so the map stays small.
            for key, limiter in list(self._chats.items()):
                if limiter.has_capacity(self._chat_burst):
                    del self._chats[key]
        return self._chats.setdefault(chat_id, AsyncLimiter(self._chat_burst, self._chat_period))

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        attempt = 0
        while True:
            try:
                return await self._paced(callback, args, kwargs, endpoint, data, rate_limit_args)
            except (BadRequest, TimedOut):
                # A refused request would be refused again; a timed-out send may have arrived.
                raise
            except NetworkError as exc:
                # The updater retries getUpdates itself.
                if attempt >= self._network_retries or endpoint == "getUpdates":
                    raise
                delay = NETWORK_BACKOFF_S[min(attempt, len(NETWORK_BACKOFF_S) - 1)]
                log.warning("%s failed (%s); retrying in %.1fs", endpoint, exc, delay)
                await asyncio.sleep(delay)
                attempt += 1

    async def _paced(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        chat = _private_chat(data)
        if chat is None:
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )
        async with self._chat_limiter(chat):
            return await super().process_request(
                callback, args, kwargs, endpoint, data, rate_limit_args
            )


def _private_chat(data: dict[str, Any]) -> int | None:
    """The chat id when a request goes to a private chat (positive ids are users)."""
    try:
        chat_id = int(data.get("chat_id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return chat_id if chat_id > 0 else None
