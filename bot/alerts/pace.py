"""The bot's one budget of sends a second, shared by replies and alerts.

Telegram's ~30 messages a second are per bot: replies (bot.telegram.flood) and alerts
(bot.alerts.delivery) wait their turn in one Pace, first come first served, so a fan-out and
the answers people are waiting for never add up past the limit (each paced on its own, 29 and
28.5 a second, they could reach 57 together). It lives here, the lowest floor both senders reach.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

CATCH_UP_S = 0.5  # a schedule this far behind was idle, not stalled: it starts afresh


class Pace:
    """Sends evenly spaced at `rate` a second; `burst` may go at once after a quiet spell,
    and slots lost to a short stall are made up — but never more than `rate` in any one second.

    - Even spacing alone held a reply's second message one gap (35 ms) behind its first on an
      idle bot, so after a quiet spell the first `burst` sends go at once.
    - Strict even spacing lost for good every slot missed while the process stalled (a loaded
      machine, another job's CPU, a garbage collection): 10-20% of an alert fan-out's rate.
      Here a send that comes late leaves the schedule where it was, so the next ones go
      sooner (no more than `burst` within `burst` half-gaps) until it is caught up; a schedule
      more than CATCH_UP_S behind starts afresh.
    """

    def __init__(self, rate: float, burst: int = 1) -> None:
        self.gap = 1 / rate
        self._most = max(1, int(rate))
        self._burst = burst
        self._next = 0.0  # when the next send is due on the schedule
        self._sent: deque[float] = deque()  # the send times of the last second
        self._paused_until = 0.0
        self._turn = asyncio.Lock()  # first come, first sent

    async def wait(self) -> None:
        """Return when a message may be sent, counting it as sent."""
        async with self._turn:
            while (delay := self._ready() - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            now = time.monotonic()
            if now - self._next > CATCH_UP_S:  # idle: a fresh schedule, `burst` slots ahead
                self._next = now - (self._burst - 1) * self.gap
            self._next += self.gap
            self._sent.append(now)

    def pause(self, seconds: float) -> None:
        """Nothing is sent for this long (Telegram's bot-wide flood wait)."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def _ready(self) -> float:
        now = time.monotonic()
        sent = self._sent
        while sent and sent[0] <= now - 1:
            sent.popleft()
        ready = max(self._next, self._paused_until)
        if len(sent) >= self._burst:
            ready = max(ready, sent[-self._burst] + self._burst * self.gap / 2)
        if len(sent) >= self._most:
            ready = max(ready, sent[-self._most] + 1)
        return ready
