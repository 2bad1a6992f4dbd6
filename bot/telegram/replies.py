"""What the handlers share: the bot's services, the user's language, and sending replies.

A reply's HTML is split under Telegram's 4,096 limit, its chart goes first (re-sent by
file_id once Telegram has a copy), and its buttons sit under the last message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.settings import LLMSettings, TelegramSettings
from bot.telegram import commands, users
from bot.telegram.commands import Button, Chart, Reply
from bot.text.i18n import Lang, detect
from bot.text.markup import split
from tools.errors import ToolkitError, UnknownCompany
from tools.store import Store

log = logging.getLogger(__name__)
TYPING_EVERY_S = 4.0  # Telegram shows "typing…" for 5 seconds per chat action

Answerer = Callable[..., Awaitable[Any]]


@dataclass
class Services:
    """Everything handlers use, kept in application.bot_data["services"]."""

    store: Store
    settings: TelegramSettings
    llm: LLMSettings
    answer: Answerer  # bot.agent.loop.answer, or a stand-in in tests
    langs: dict[int, Lang | None] = field(default_factory=dict)  # user id → stored choice
    file_ids: dict[str, str] = field(default_factory=dict)  # chart key → Telegram file_id
    busy: set[int] = field(default_factory=set)  # users with a question being answered


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.bot_data["services"]


async def lang_of(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Lang:
    """The user's /lang choice, else their Telegram app language (zh* → Chinese)."""
    user = update.effective_user
    if user is None:
        return "en"
    s = services(context)
    if user.id not in s.langs:
        s.langs[user.id] = await asyncio.to_thread(users.stored_lang, s.store, user.id)
    return s.langs[user.id] or detect(user.language_code)


def keyboard(buttons: list[list[Button]]) -> InlineKeyboardMarkup | None:
    rows = [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in buttons]
    return InlineKeyboardMarkup(rows) if rows else None


def _reply_to(update: Update) -> ReplyParameters | None:
    """In groups, answers quote the message that asked, so the thread stays readable."""
    message = update.message
    if message is None or update.effective_chat is None:
        return None
    if update.effective_chat.type == ChatType.PRIVATE:
        return None
    return ReplyParameters(message_id=message.message_id, allow_sending_without_reply=True)


async def send(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> None:
    """Send a reply: chart first, then the text in as many messages as it needs."""
    chat = update.effective_chat
    if chat is None:
        return
    if reply.chart is not None:
        try:
            await _send_chart(context, chat.id, reply.chart, _reply_to(update))
        except BadRequest as exc:  # a refused picture must not cost the user the answer
            log.warning("chart %s refused: %s", reply.chart.key, exc)
    parts = split(reply.html)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        await context.bot.send_message(
            chat.id,
            part,
            reply_markup=keyboard(reply.buttons) if last else None,
            reply_parameters=_reply_to(update) if i == 0 and reply.chart is None else None,
        )


async def _send_chart(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, chart: Chart, reply_to: ReplyParameters | None
) -> None:
    s = services(context)
    file_id = s.file_ids.get(chart.key)
    if file_id is not None:
        with contextlib.suppress(BadRequest):  # an expired file_id: upload it again below
            await context.bot.send_photo(
                chat_id, file_id, caption=chart.caption, reply_parameters=reply_to
            )
            return
    photo = InputFile(chart.png, filename="chart.png")
    sent: Message = await context.bot.send_photo(
        chat_id, photo, caption=chart.caption, reply_parameters=reply_to
    )
    if sent.photo:
        s.file_ids[chart.key] = sent.photo[-1].file_id


async def send_html(update: Update, context: ContextTypes.DEFAULT_TYPE, html: str) -> None:
    await send(update, context, Reply(html))


async def run_view(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    command: str,
    args: list[str],
) -> None:
    """Answer a command from its view, computed in a worker thread."""
    lang = await lang_of(update, context)
    store = services(context).store
    view = commands.COMMAND_VIEWS[command]
    reply = await asyncio.to_thread(guarded, command, lambda: view(store, lang, args), store, lang)
    await send(update, context, reply)


def guarded(action: str, make: Callable[[], Reply], store: Store, lang: Lang) -> Reply:
    """A view's reply, or the message for a mistake the user made (unknown company, bad
    argument); anything else propagates to the error handler."""
    try:
        return make()
    except UnknownCompany as exc:
        return commands.unknown_company(store, lang, exc, action)
    except ToolkitError as exc:
        return commands.problem(exc, lang)


@contextlib.asynccontextmanager
async def typing(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> AsyncIterator[None]:
    """Show "typing…" in the chat until the block ends."""

    async def keep_typing() -> None:
        while True:
            with contextlib.suppress(Exception):  # a lost indicator must not stop the answer
                await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
            await asyncio.sleep(TYPING_EVERY_S)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
