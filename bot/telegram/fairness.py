"""Updates are handled fairly between users: round-robin, a few at a time each, a bounded backlog.

python-telegram-bot starts every update as soon as it arrives and lets the first
`max_concurrent_updates` of them run; the rest wait in arrival order. One user sending hundreds
of messages then fills every slot with handlers that wait on that user's own chat pace (about a
message a second), and everybody else waits behind them. Here each user may run `per_user`
updates at once and queue `backlog` more; the next free slot goes to the next user in turn; and
what a flooder sends beyond the backlog is dropped, with one polite note per flood.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)
PER_USER = 2  # a second update may run while a slow question is answered (it says "busy")
BACKLOG = 8  # queued per user beyond those running; more is a flood
HELD = 4096  # updates held at once, running or waiting; beyond this they wait in arrival order

OnDropped = Callable[[Update], Coroutine[Any, Any, None]]


@dataclass
class _Sender:
    """One user's (or chat's) place in the scheduler."""

    running: int = 0
    waiting: collections.deque[asyncio.Future[None]] = field(default_factory=collections.deque)
    noted: bool = False  # the flood note was sent; sent again only after the backlog drains


class FairUpdateProcessor(BaseUpdateProcessor):
    """Runs `slots` updates at once, taken from the users in turn.

    The base class's FIFO semaphore (final `process_update`) only bounds how many updates are
    held here at all, running or waiting; `do_process_update` hands out the slots.
    """

    def __init__(
        self,
        slots: int,
        *,
        per_user: int = PER_USER,
        backlog: int = BACKLOG,
        held: int = HELD,
    ) -> None:
        super().__init__(max(held, slots))
        self._slots = slots
        self._per_user = per_user
        self._backlog = backlog
        self._senders: dict[int, _Sender] = {}
        self._turns: collections.deque[int] = collections.deque()  # senders with a free turn
        self._running = 0
        self._on_dropped: OnDropped | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.dropped = 0

    @property
    def running(self) -> int:
        """Updates being handled now (read from any thread: the warm-up steps aside)."""
        return self._running

    def on_dropped(self, callback: OnDropped) -> None:
        """Called (in the background) for the first update dropped in each flood."""
        self._on_dropped = callback

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _sender_of(update)
        sender = self._senders.setdefault(key, _Sender())
        if len(sender.waiting) >= self._backlog:
            self._drop(update, sender, coroutine)
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        sender.waiting.append(turn)
        if key not in self._turns:
            self._turns.append(key)
        self._hand_out()
        try:
            await turn
        except asyncio.CancelledError:
            self._withdraw(key, sender, turn)
            _close(coroutine)
            raise
        try:
            await coroutine
        finally:
            self._finish(key, sender)

    def _hand_out(self) -> None:
        """Give free slots to senders in turn: each gets one, then goes to the back."""
        for _ in range(len(self._turns)):
            if self._running >= self._slots:
                return
            key = self._turns.popleft()
            sender = self._senders.get(key)
            if sender is None or not _drop_cancelled(sender) or sender.running >= self._per_user:
                continue  # comes back when one of its updates ends
            sender.waiting.popleft().set_result(None)
            sender.running += 1
            self._running += 1
            if sender.waiting:
                self._turns.append(key)

    def _finish(self, key: int, sender: _Sender) -> None:
        sender.running -= 1
        self._running -= 1
        if sender.waiting and key not in self._turns:
            self._turns.append(key)
        self._forget_if_idle(key, sender)
        self._hand_out()

    def _withdraw(self, key: int, sender: _Sender, turn: asyncio.Future[None]) -> None:
        if turn.done() and not turn.cancelled():
            self._finish(key, sender)  # the turn was given just as the task was cancelled
            return
        if turn in sender.waiting:
            sender.waiting.remove(turn)
        self._forget_if_idle(key, sender)

    def _forget_if_idle(self, key: int, sender: _Sender) -> None:
        if not sender.waiting and not sender.running:
            # Keeps the map small, and ends the flood: a later one gets a new note.
            self._senders.pop(key, None)

    def _drop(self, update: object, sender: _Sender, coroutine: Awaitable[Any]) -> None:
        _close(coroutine)
        self.dropped += 1
        if sender.noted or self._on_dropped is None or not isinstance(update, Update):
            return
        sender.noted = True
        log.info("user %s is flooding; dropping their excess updates", _sender_of(update))
        task: asyncio.Task[None] = asyncio.create_task(self._on_dropped(update))
        self._tasks.add(task)  # keep a reference until it ends
        task.add_done_callback(self._tasks.discard)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free: running updates end with the application."""


def _sender_of(update: object) -> int:
    """Whose turn an update takes: the user's, else the chat's (0 when it has neither)."""
    if not isinstance(update, Update):
        return 0
    who = update.effective_user or update.effective_chat
    return who.id if who is not None else 0


def _drop_cancelled(sender: _Sender) -> bool:
    """Whether the sender still waits for a turn, past turns whose task was cancelled."""
    while sender.waiting and sender.waiting[0].done():
        sender.waiting.popleft()
    return bool(sender.waiting)


def _close(coroutine: Awaitable[Any]) -> None:
    """A dropped update's handler coroutine was created but never started; close it quietly."""
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()
