"""Delivery of ranking-change alerts: a JobQueue job sends the outbox, one message at a time.

Sends go around the Application's AIORateLimiter, on a Bot of their own, paced here:
- AIORateLimiter answers a RetryAfter by pausing every request of the bot, so one user's
  flood wait would stall a thousand other alerts and the replies people are waiting for;
  here a 429 puts off only its chat (and everyone only when two chats in a row get one,
  which means the bot-wide limit was hit).
- it retries inside the call, and a message retried there is one this job cannot account
  for; here every attempt is claimed and settled in the outbox (bot/alerts/outbox.py).
- it lets a burst of 30 through at once and has no private-chat pace; here messages wait
  their turn in the bot's one pace (bot.alerts.pace), shared with replies, and each chat waits
  out its gap.

One message is in flight at a time, settled before the next is sent, so a crash repeats at
most that one; a few are claimed ahead in one transaction, and settling is a commit of the
bot's own file without fsync (tools.botfile), so the time between two sends is the send
itself. Over loopback that reaches the overall limit; with Telegram ~50 ms away it is ~15-20
messages a second.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import ssl
import time
from collections.abc import Callable
from typing import NamedTuple

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes
from telegram.request import HTTPXRequest

from bot.alerts import message as alert_message
from bot.alerts import outbox
from bot.alerts.pace import Pace
from bot.settings import TelegramSettings
from tools.errors import StoreBusy
from tools.store import Store

log = logging.getLogger(__name__)
POLL_S = 2.0  # how often the job looks for new rows: a CLI import is heard within seconds
DRAIN_S = 5.0  # one run sends for about this long at most: a shutdown waits for it
BACKOFF_S = (1, 2, 4, 8, 15, 30, 60, 120, 300)  # after transient errors, by attempt
WRITE_TRIES = 6  # each waits out the bot file's busy timeout first (a CLI creating it)
SHOWN_KEPT = 64  # rendered alerts kept: a few per revision (subscriptions × languages)
CLAIM_AHEAD = 8  # messages claimed in one transaction: about a quarter of a second's worth
KEEP_SETTLED_S = 30 * 86400
PRUNE_EVERY_S = 6 * 3600


class Shown(NamedTuple):
    text: str
    buttons: list[alert_message.Button]


class Delivery:
    """The alerts job's state: the pace, which chat last got a 429, the message being
    recorded, and the texts made."""

    def __init__(self, store: Store, settings: TelegramSettings, pace: Pace) -> None:
        self.store = store
        self.settings = settings
        self.pace = pace
        self._lock = asyncio.Lock()
        self._pruned_at = 0.0
        self._flooded_chat: int | None = None
        self._settling: asyncio.Task[None] | None = None  # recording the last message sent
        self._shown: dict[tuple[object, ...], Shown] = {}

    async def run(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Send the alerts that are due (the job's callback); continue at once if time ran out."""
        if self._lock.locked():
            return  # the run in progress will see the new rows
        async with self._lock:
            try:
                await self._housekeeping()
            except StoreBusy as exc:  # the file was busy past its timeout: the next tick tries
                log.warning("alerts housekeeping put off: %s", exc)
                return
            more = await self.drain()
        if more and context.job_queue is not None:
            context.job_queue.run_once(self.run, 0, name="alerts-more")

    async def _housekeeping(self) -> None:
        # Between runs no message is in flight (one run at a time, one bot per database), so
        # a row still 'sending' was cut off: by a crash before this start, or a failed write.
        released = await asyncio.to_thread(outbox.release_claims, self.store)
        if released:
            log.warning("%d alert rows were cut off in flight; sending them again", released)
        if time.time() - self._pruned_at > PRUNE_EVERY_S:
            self._pruned_at = time.time()
            await asyncio.to_thread(outbox.prune, self.store, self._pruned_at - KEEP_SETTLED_S)

    async def drain(self) -> bool:
        """Send due messages for up to DRAIN_S; True when some are still due."""
        await asyncio.to_thread(outbox.fan_out, self.store)  # an import's, since the last run
        if not await asyncio.to_thread(outbox.has_due, self.store, time.time()):
            return False
        deadline = time.monotonic() + DRAIN_S
        # The certificates are loaded once: every run's client loading them cost ~0.2 s of
        # CPU, a stall in the middle of a fan-out every DRAIN_S.
        tls = await asyncio.to_thread(_tls)
        request = HTTPXRequest(connection_pool_size=1, httpx_kwargs={"verify": tls})
        bot = Bot(
            self.settings.token.get_secret_value(),
            base_url=self.settings.base_url,
            request=request,
            get_updates_request=request,  # never polls; one client to close
        )
        async with request:
            try:
                return await self._send_due(bot, deadline)
            finally:
                await self._settled()

    async def _send_due(self, bot: Bot, deadline: float) -> bool:
        """Claim a few, send them in turn, again until the deadline; True when time ran out."""
        while time.monotonic() < deadline:
            try:
                batches = await asyncio.to_thread(
                    outbox.claim_many, self.store, time.time(), CLAIM_AHEAD
                )
            except StoreBusy as exc:  # the file was busy past its timeout: next tick
                log.warning("could not claim alerts: %s", exc)
                return False
            if not batches:
                return False
            shown = await asyncio.to_thread(self._render, batches)
            for batch, text in zip(batches, shown, strict=True):
                await self._send(bot, batch, text)
        return True

    def _render(self, batches: list[outbox.Batch]) -> list[Shown | Exception]:
        """Each message's text and buttons (in a worker thread, off the sending loop): the
        same for every chat with the same subscriptions and language, so made once each."""
        if len(self._shown) > SHOWN_KEPT:
            self._shown.clear()
        out: list[Shown | Exception] = []
        for batch in batches:
            key = (
                batch.revision,
                batch.lang,
                batch.companies,
                *(e.id for e in batch.events),
                "|",
                *batch.scopes,
            )
            try:
                if key not in self._shown:
                    self._shown[key] = Shown(
                        alert_message.render(batch.events, batch.lang, batch.companies),
                        alert_message.unsubscribe_buttons(batch.scopes, batch.events, batch.lang),
                    )
                out.append(self._shown[key])
            except Exception as exc:  # a bug: keep one bad alert from blocking the queue
                log.exception("the alert for chat %s could not be rendered", batch.chat_id)
                out.append(exc)
        return out

    async def _send(self, bot: Bot, batch: outbox.Batch, shown: Shown | Exception) -> None:
        # The message before is recorded before this one goes out: a crash repeats one at most.
        await self._settled()
        if isinstance(shown, Exception):
            await self._write(outbox.mark_failed, batch, repr(shown))
            return
        try:
            async with self.pace.send():
                message = await bot.send_message(
                    batch.chat_id,
                    shown.text,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                    reply_markup=_keyboard(shown.buttons),
                )
        except TelegramError as exc:
            await self._refused(batch, exc)
            return
        self._flooded_chat = None
        # Recorded in a worker thread within the gap before the next slot (the next send waits
        # for it first, then its turn in the pace).
        self._settling = asyncio.create_task(
            self._write(outbox.mark_sent, batch, message.message_id, time.time())
        )

    async def _settled(self) -> None:
        settling, self._settling = self._settling, None
        if settling is not None:
            await settling

    async def _write(self, settle: Callable[..., object], *args: object) -> None:
        """Record what became of a message; when the file is busy past its timeout, try
        again rather than leave a sent message unrecorded."""
        for attempt in range(WRITE_TRIES):
            try:
                await asyncio.to_thread(settle, self.store, *args)
                return
            except StoreBusy as exc:
                if attempt == WRITE_TRIES - 1:
                    raise
                log.warning("the outbox is busy (%s); trying again", exc)
                await asyncio.sleep(1)

    async def _refused(self, batch: outbox.Batch, exc: TelegramError) -> None:
        """Settle a message Telegram did not take, by what its answer means."""
        chat = batch.chat_id
        if isinstance(exc, RetryAfter):
            await self._flood_wait(batch, _seconds(exc.retry_after))
        elif isinstance(exc, ChatMigrated):
            log.info("chat %s moved to %s; its alerts follow", chat, exc.new_chat_id)
            await self._write(outbox.move_chat, chat, exc.new_chat_id)
        elif isinstance(exc, Forbidden) or _chat_not_found(exc):
            log.info("chat %s is gone (%s): its subscriptions end", chat, exc)
            await self._write(outbox.end_chat, chat, exc.message)
        elif isinstance(exc, BadRequest):
            log.error("Telegram refused the alert for chat %s: %s", chat, exc)
            await self._write(outbox.mark_failed, batch, exc.message)
        else:  # network, timeout, 5xx: Telegram may be back in a moment
            delay = BACKOFF_S[min(batch.attempts, len(BACKOFF_S)) - 1]
            log.warning("alert for chat %s failed (%s); retrying in %ss", chat, exc, delay)
            await self._write(outbox.retry_later, batch, time.time() + delay, exc.message)

    async def _flood_wait(self, batch: outbox.Batch, seconds: float) -> None:
        """Put off the chat; pause everyone when the chat before was flooded too."""
        if self._flooded_chat not in (None, batch.chat_id):
            self.pace.pause(seconds)
        self._flooded_chat = batch.chat_id
        log.warning("flood wait %.0fs for chat %s", seconds, batch.chat_id)
        await self._write(outbox.retry_later, batch, time.time() + seconds, "429 flood wait")


@functools.cache
def _tls() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def _keyboard(buttons: list[alert_message.Button]) -> InlineKeyboardMarkup | None:
    rows = [[InlineKeyboardButton(b.label, callback_data=b.data)] for b in buttons]
    return InlineKeyboardMarkup(rows) if rows else None


def _seconds(value: int | dt.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dt.timedelta) else float(value)


def _chat_not_found(exc: TelegramError) -> bool:
    return isinstance(exc, BadRequest) and "chat not found" in exc.message.lower()


def schedule(app: Application, store: Store, settings: TelegramSettings, pace: Pace) -> Delivery:
    """Start the alerts job on the application's JobQueue; its sends wait in `pace`, the
    replies' pace too."""
    delivery = Delivery(store, settings, pace)
    if app.job_queue is not None:
        # A run may outlast the interval; the tick that finds it busy returns at once, and
        # APScheduler would otherwise log a warning for every tick it skips meanwhile.
        app.job_queue.run_repeating(
            delivery.run, interval=POLL_S, first=0, name="alerts", job_kwargs={"max_instances": 2}
        )
    return delivery
