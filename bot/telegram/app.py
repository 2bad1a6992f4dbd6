"""The Telegram application, wired in one place: builder, handlers, jobs, polling or webhook.

`serve()` is the one way the bot runs, in production (`inference-lens run`), in the
end-to-end tests and in the benchmark: it takes the per-database lock, starts the
application, and polls (or serves a webhook) until `stop` is set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import signal
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlparse

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackContext,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.alerts import delivery
from bot.settings import LLMSettings, TelegramSettings
from bot.telegram import charts, following, handlers, pages, platform, updates, users
from bot.telegram.fairness import FairUpdateProcessor
from bot.telegram.flood import FloodLimiter
from bot.telegram.poller_lock import PollerLock
from bot.telegram.replies import Answerer, Services, lang_of
from bot.text.i18n import Lang, t
from bot.text.markup import esc
from tools.store import Store

log = logging.getLogger(__name__)
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,  # an edited question is answered again
    Update.CALLBACK_QUERY,
    Update.INLINE_QUERY,
    Update.MY_CHAT_MEMBER,  # the bot added to a group: it says hello
]
POLL_TIMEOUT_S = 10
CONCURRENT_UPDATES = 64  # handlers await the LLM and worker threads; others go on meanwhile
EXTRA_THREADS = 8  # for the jobs (warm-up, alerts, housekeeping) beside the updates
# (shared round-robin between users: see bot/telegram/fairness.py)
KEEP_UPDATE_IDS = dt.timedelta(days=2)  # Telegram keeps an unconfirmed update for 24 hours
KEEP_USAGE_DAYS = 7
WATCH_EVERY_S = 5  # how soon the charts of a revision imported elsewhere are warmed
IMPORT_CAPTION = filters.CaptionRegex(r"^/import(@\w+)?(\s|$)")


class CannotStart(RuntimeError):
    """Telegram refused the token, or could not be reached, when the bot started."""


@dataclass(frozen=True)
class Webhook:
    url: str  # the public HTTPS URL Telegram posts to
    port: int
    listen: str = "127.0.0.1"  # behind a reverse proxy on the same host, by default


COMMANDS = {
    "start": platform.start,
    "help": handlers.help_command,
    "lang": handlers.lang,
    "rank": handlers.rank,
    "tiers": handlers.tiers,
    "company": handlers.company,
    "compare": handlers.compare,
    "history": handlers.history,
    "whatif": handlers.whatif,
    "sources": handlers.sources,
    "methodology": handlers.methodology,
    "subscribe": following.subscribe,
    "unsubscribe": following.unsubscribe,
    "subscriptions": following.subscriptions,
    "import": handlers.import_hint,
}


def default_answerer() -> Answerer:
    """The agent's answer(); imported here so the toolkit CLI never loads the LLM client."""
    from bot.agent.loop import answer

    return answer


def build_application(
    settings: TelegramSettings,
    store: Store,
    answer: Answerer | None = None,
    llm: LLMSettings | None = None,
) -> Application:
    """The configured Application: flood limits, HTML by default, every handler, jobs."""
    limiter = FloodLimiter(
        overall_per_second=settings.overall_per_second,
        chat_burst=settings.chat_burst,
        chat_per_second=settings.chat_per_second,
        max_retries=settings.max_retries,
    )
    processor = FairUpdateProcessor(CONCURRENT_UPDATES)
    defaults = Defaults(
        parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
    )
    app = (
        ApplicationBuilder()
        .token(settings.token.get_secret_value())
        .base_url(settings.base_url)
        .base_file_url(settings.file_url)
        .rate_limiter(limiter)
        .defaults(defaults)
        .concurrent_updates(processor)
        .build()
    )
    processor.on_dropped(lambda update: slow_down(app, update))
    charts.use_font(settings.cjk_font)
    app.bot_data["services"] = Services(
        store, settings, llm or LLMSettings(), answer or default_answerer()
    )
    add_handlers(app)
    return app


def add_handlers(app: Application) -> None:
    app.add_handler(TypeHandler(Update, handlers.drop_redelivered), group=-1)
    for name, callback in COMMANDS.items():
        app.add_handler(CommandHandler(name, callback))
    app.add_handler(MessageHandler(filters.Document.ALL & IMPORT_CAPTION, handlers.import_document))
    app.add_handler(CallbackQueryHandler(handlers.button))
    app.add_handler(InlineQueryHandler(platform.inline_query))
    app.add_handler(ChatMemberHandler(platform.joined, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.COMMAND, handlers.unknown_command))
    app.add_handler(MessageHandler(filters.TEXT, handlers.question))
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE, handlers.unsupported))
    app.add_error_handler(handlers.on_error)


async def slow_down(app: Application, update: Update) -> None:
    """Tell a flooding user, once, that their extra messages were not read."""
    chat = update.effective_chat
    if chat is None:
        return
    context = CallbackContext.from_update(update, app)
    lang = await lang_of(update, context)
    try:
        await app.bot.send_message(chat.id, esc(t("flood_note", lang)))
    except TelegramError as exc:
        log.warning("could not send the flood note to %s: %s", chat.id, exc)


async def on_startup(app: Application) -> None:
    """Publish the command menu in both languages and schedule the housekeeping jobs."""
    charts.use_handle(app.bot.username)  # the charts' footer, known by now
    jobs = app.job_queue
    services: Services = app.bot_data["services"]
    for lang, code in platform.LANG_CODES:
        await app.bot.set_my_commands(bot_commands(lang), language_code=code)
    await platform.describe(app.bot)
    if jobs is not None:
        if services.settings.warm_up:
            jobs.run_repeating(
                handlers.watch_revisions, interval=WATCH_EVERY_S, first=WATCH_EVERY_S
            )
        jobs.run_repeating(housekeeping, interval=dt.timedelta(hours=6), first=60)
        limiter = app.bot.rate_limiter
        assert isinstance(limiter, FloodLimiter)  # build_application's
        # Ranking-change alerts, in the replies' pace: the bot has one budget of 30 a second.
        delivery.schedule(app, services.store, services.settings, limiter.pace)


def bot_commands(lang: Lang) -> list[BotCommand]:
    names = ["start", *pages.COMMANDS]
    return [BotCommand(name, t("cmd_" + name, lang)) for name in names]


async def housekeeping(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Forget old update ids and quota counters."""
    store = context.bot_data["services"].store
    now = dt.datetime.now(dt.UTC)
    await asyncio.to_thread(updates.forget_before, store, now - KEEP_UPDATE_IDS)
    cutoff = now.date() - dt.timedelta(days=KEEP_USAGE_DAYS)
    await asyncio.to_thread(users.forget_usage_before, store, cutoff)


def webhook_secret(settings: TelegramSettings) -> str:
    """A secret Telegram echoes on every webhook call; stable across restarts of one bot."""
    return hashlib.sha256(b"webhook:" + settings.token.get_secret_value().encode()).hexdigest()


async def serve(app: Application, stop: asyncio.Event, webhook: Webhook | None = None) -> None:
    """Run the bot until `stop` is set; refuses to start if another bot uses the database."""
    services: Services = app.bot_data["services"]
    # A thread for every update that may run at once: with Python's default (six on two
    # cores), six requests waiting for the drawing lock kept every other one, /start or an
    # answer already drawn, from starting at all (the first minute after start took ~60 s).
    threads = ThreadPoolExecutor(CONCURRENT_UPDATES + EXTRA_THREADS, thread_name_prefix="bot")
    asyncio.get_running_loop().set_default_executor(threads)
    with PollerLock(services.store.path):
        async with app:
            await app.start()
            await on_startup(app)
            await _receive(app, services.settings, webhook)
            start_drawing(app)
            log.info("bot @%s is running", app.bot.username)
            await stop.wait()
            if app.updater is not None:
                await app.updater.stop()
            await app.stop()


def start_drawing(app: Application) -> None:
    """The drawing processes and the warm-up, once the bot answers: started sooner, they
    took the two cores from its start-up (the first answer came after 5.4 s, not 2.6 s)."""
    charts.draw_elsewhere()
    services: Services = app.bot_data["services"]
    if app.job_queue is not None and services.settings.warm_up:
        app.job_queue.run_once(handlers.warm_up, when=0, name="warm-up")


async def _receive(app: Application, settings: TelegramSettings, webhook: Webhook | None) -> None:
    if app.updater is None:
        raise RuntimeError("the application was built without an updater")
    if webhook is None:
        await app.updater.start_polling(
            timeout=POLL_TIMEOUT_S, allowed_updates=ALLOWED_UPDATES, error_callback=_polling_error
        )
        return
    await app.updater.start_webhook(
        listen=webhook.listen,
        port=webhook.port,
        url_path=urlparse(webhook.url).path.lstrip("/"),
        webhook_url=webhook.url,
        secret_token=webhook_secret(settings),
        allowed_updates=ALLOWED_UPDATES,
    )


def _polling_error(exc: Exception) -> None:
    # The updater retries by itself; a warning without a traceback keeps the log readable.
    log.warning("polling failed: %s", exc)


def run(
    settings: TelegramSettings, llm: LLMSettings, store: Store, webhook: Webhook | None = None
) -> None:
    """Run until SIGINT or SIGTERM (`inference-lens run`)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines carry the token

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await serve(build_application(settings, store, llm=llm), stop, webhook)

    try:
        asyncio.run(main())
    except (InvalidToken, NetworkError) as exc:
        raise CannotStart(f"cannot reach the Bot API at {settings.base_url}: {exc}") from None
