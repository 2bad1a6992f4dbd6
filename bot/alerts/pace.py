"""The bot's one budget of sends a second, shared by replies and alerts.

Telegram's ~30 messages a second are per bot: replies (bot.telegram.flood) and alerts
(bot.alerts.delivery) wait their turn in one Pace, first come first served, so a fan-out and
the answers people are waiting for never add up past the limit (each paced on its own, 29 and
28.5 a second, they could reach 57 together). It lives here, the lowest floor both senders reach.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import AsyncIterator

CATCH_UP_S = 0.5  # a schedule this far behind was idle, not stalled: it starts afresh


class Pace:
    """Sends evenly spaced at `rate` a second; `burst` may go at once after a quiet spell,
    and slots lost to a short stall are made up — but never more than `rate` in any one second
    of their arrival at Telegram.

    - Even spacing alone held a reply's second message one gap (35 ms) behind its first on an
      idle bot, so after a quiet spell the first `burst` sends go at once.
    - Strict even spacing lost for good every slot missed while the process stalled (a loaded
      machine, another job's CPU, a garbage collection): 10-20% of an alert fan-out's rate.
      Here a send that comes late leaves the schedule where it was, so the next ones go
      sooner (no more than `burst` within `burst` half-gaps) until it is caught up; a schedule
      more than CATCH_UP_S behind starts afresh.
    - Telegram counts a message when it arrives, somewhere between the send's start and its
      answer. Counted from its start, a request held up on a busy event loop arrived beside
      the ones let go after it, and a second of arrivals could pass the limit (two 429s in
      CI). So a send counts from its start until a second after its answer: a new one goes
      only while fewer than `rate` did, and no second of arrivals can hold more than that.
    """

    def __init__(self, rate: float, burst: int = 1) -> None:
        self.gap = 1 / rate
        self._most = max(1, int(rate))
        self._burst = burst
        self._next = 0.0  # when the next send is due on the schedule
        self._started: deque[float] = deque(maxlen=burst)  # the last few sends' starts
        self._answered: deque[float] = deque()  # when the sends of the last second ended
        self._in_flight = 0
        self._ended = asyncio.Event()  # set when a send ends: a full second may have room
        self._paused_until = 0.0
        self._turn = asyncio.Lock()  # first come, first sent

    @contextlib.asynccontextmanager
    async def send(self) -> AsyncIterator[None]:
        """Wait until a message may be sent; it counts as sending for the block's duration."""
        async with self._turn:
            while (delay := self._ready() - time.monotonic()) > 0:
                self._ended.clear()
                # A send ending may make room before the delay is up.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._ended.wait(), None if math.isinf(delay) else delay)
            now = time.monotonic()
            if now - self._next > CATCH_UP_S:  # idle: a fresh schedule, `burst` slots ahead
                self._next = now - (self._burst - 1) * self.gap
            self._next += self.gap
            self._started.append(now)
            self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            self._answered.append(time.monotonic())
            self._ended.set()

    def pause(self, seconds: float) -> None:
        """Nothing is sent for this long (Telegram's bot-wide flood wait)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def _ready(self) -> float:
        """When the next send may start (infinity: when one in flight ends)."""
        now = time.monotonic()
        answered = self._answered
        while answered and answered[0] <= now - 1:
            answered.popleft()
        ready = max(self._next, self._paused_until)
        started = self._started
        if len(started) == self._burst:
            ready = max(ready, started[0] + self._burst * self.gap / 2)
        over = self._in_flight + len(answered) - self._most  # this many must leave the second
        if over >= 0:
            ready = max(ready, answered[over] + 1 if over < len(answered) else math.inf)
        return ready
