"""Running the real bot Application against the fake Telegram server, inside a test."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from fake_telegram import FakeTelegram
from telegram.ext import Application

from bot.settings import LLMSettings, TelegramSettings
from bot.telegram.app import build_application, serve
from bot.telegram.replies import Answerer
from tools.store import Store

ADMIN_ID = 42


async def until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait for `condition()` to hold (the bot answers in its own time), at most `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition never held")
        await asyncio.sleep(0.005)


@dataclass
class StandInAnswer:
    """What bot.agent.answer returns, for tests that script the agent."""

    text: str
    mode: str = "offline"
    note: str | None = None
    tool_calls: list[Any] = field(default_factory=list)  # ToolCallRecord-like: name, arguments
    action: None = None  # a subscription asked for in words (none when scripted)


def settings_for(
    tg: FakeTelegram, admins: Iterable[int] = (ADMIN_ID,), **overrides: Any
) -> TelegramSettings:
    """Settings for the fake server; a chat may burst 20 messages so tests need not wait out
    the per-chat pace (the flood test sets Telegram's real pace), and charts are drawn when
    first asked for rather than all at start."""
    values = {"chat_burst": 20, "warm_up": False, **overrides}
    return TelegramSettings(
        token=tg.token, base_url=tg.base_url, admin_ids=frozenset(admins), **values
    )


@contextlib.asynccontextmanager
async def running_bot(
    tg: FakeTelegram,
    store: Store,
    *,
    answer: Answerer | None = None,
    llm: LLMSettings | None = None,
    **overrides: Any,
) -> AsyncIterator[Application]:
    """The bot polling the fake server until the block ends (the same serve() as `run`);
    free text goes to the real agent unless `answer` stands in for it."""
    app = build_application(settings_for(tg, **overrides), store, answer, llm)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, stop))
    while not (app.updater and app.updater.running):
        if task.done():
            task.result()  # raises what stopped it
        await asyncio.sleep(0.01)
    try:
        yield app
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
