"""Telegram's flood limits on top of python-telegram-bot's AIORateLimiter.

AIORateLimiter paces the whole bot and each group (20 a minute), and retries after a 429
RetryAfter. Three things are changed or added here:
- the whole bot keeps under 30 messages in any one second, a few at a time, in the one pace
  it shares with alerts (bot.alerts.pace): AIORateLimiter's bucket of 30 lets 30 messages go
  at once and 30 more within the same second, which Telegram answers with a storm of 429s;
- a private chat has its own pace (about one message a second, with a short burst allowed), and
  a 429 in a private chat makes only that chat wait: AIORateLimiter pauses every request of the
  bot until the retry, so one user's flood would hold up everyone;
- a few retries after transient network errors and 5xx answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import warnings
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut
from telegram.ext import AIORateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot.alerts.pace import Pace

log = logging.getLogger(__name__)
MAX_CHAT_LIMITERS = 1024
NETWORK_BACKOFF_S = (0.5, 1.0, 2.0)
OVERALL_HEADROOM = 0.95  # pace a little under the limit: requests arrive with some jitter
OVERALL_BURST = 3  # what may go at once: a reply's photo and text, or a few users' answers
RETRY_MARGIN_S = 0.1
NOT_MESSAGES = frozenset({"sendChatAction"})

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
        # The base class's overall bucket is off (the pace replaces it); it never retries a
        # 429 itself (max_retries=0) unless asked to, for a group.
        super().__init__(overall_max_rate=0, max_retries=0)
        self.pace = Pace(overall_per_second * OVERALL_HEADROOM, OVERALL_BURST)
        self._chat_burst = chat_burst
        self._chat_period = chat_burst / chat_per_second
        self._chats: dict[int, AsyncLimiter] = {}
        self._retries = max_retries

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
                if attempt >= self._retries or endpoint == "getUpdates":
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
        retries = rate_limit_args or self._retries
        if data.get("chat_id") is not None:
            # Every attempt to send to a chat, a retry too, waits its turn in the overall pace.
            callback = self._paced_overall(callback)
        if chat is None:
            # A group's or the bot's own 429: the base class pauses all requests, then retries.
            return await super().process_request(callback, args, kwargs, endpoint, data, retries)
        # Telegram's pace in a chat is about messages: "typing…" before an answer does not wait
        # for it, nor make the answer wait.
        paced = contextlib.nullcontext() if endpoint in NOT_MESSAGES else self._chat_limiter(chat)
        async with paced:
            attempt = 0
            while True:
                try:
                    return await super().process_request(
                        callback, args, kwargs, endpoint, data, None
                    )
                except RetryAfter as exc:
                    if attempt >= retries:
                        raise
                    # Holding this chat's limiter, only this chat waits.
                    await asyncio.sleep(_seconds(exc) + RETRY_MARGIN_S)
                    attempt += 1

    def _paced_overall(self, callback: Callback) -> Callback:
        async def send(*args: Any, **kwargs: Any) -> Any:
            async with self.pace.send():
                return await callback(*args, **kwargs)

        return send


def _private_chat(data: dict[str, Any]) -> int | None:
    """The chat id when a request goes to a private chat (positive ids are users)."""
    try:
        chat_id = int(data.get("chat_id"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return chat_id if chat_id > 0 else None


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        # An int retry_after is deprecated in favour of a timedelta; either is read here.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        wait = exc.retry_after
    return wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
