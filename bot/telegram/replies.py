"""What the handlers share: the bot's services, the user's language, and sending replies.

One message per answer: a chart answer is the photo with the whole text as its caption when
it fits Telegram's 1,024 visible characters, or its short form (without what its chart shows,
`Reply.short`), else the photo (captioned with the title) and then one text message; the chart is re-sent by file_id once Telegram has a copy. Buttons sit
under the last message. A tapped button's answer replaces the message it sits under
(`show`), when Telegram can edit it into that, else it is sent as a new answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.alerts import subscriptions
from bot.settings import LLMSettings, TelegramSettings
from bot.telegram import commands, navigation, users
from bot.telegram.commands import Button, Chart, Reply
from bot.text.i18n import Lang, detect, t
from bot.text.markup import split
from tools.errors import ToolkitError, UnknownCompany
from tools.store import Store

log = logging.getLogger(__name__)
TYPING_EVERY_S = 4.0  # Telegram shows "typing…" for 5 seconds per chat action
DRAWING_AFTER_S = 0.3  # a memoised answer is quicker; a chart being drawn is not
DRAFT_STEP_S = 3.0  # the draft moves on to its next step after this long
DRAFT_STEPS = ("draft_looking_up", "draft_checking")

Answerer = Callable[..., Awaitable[Any]]
T = TypeVar("T")


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
    # (chat, text message) → the photo message above it, for answers sent as two messages
    photos: dict[tuple[int, int], int] = field(default_factory=dict)
    warmed: int | None = None  # the revision whose charts the warm-up drew last


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
    rows = [
        [InlineKeyboardButton(navigation.label(b.label), callback_data=b.data) for b in row]
        for row in buttons
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def _reply_to(update: Update) -> ReplyParameters | None:
    """In groups, answers quote the message that asked, so the thread stays readable."""
    message = update.message or update.edited_message  # not a tapped button's message
    if message is None or update.effective_chat is None:
        return None
    if update.effective_chat.type == ChatType.PRIVATE:
        return None
    return ReplyParameters(message_id=message.message_id, allow_sending_without_reply=True)


async def send(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> None:
    chat = update.effective_chat
    if chat is not None:
        await deliver(context, chat.id, reply, _reply_to(update))


async def deliver(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, reply: Reply, reply_to: ReplyParameters | None
) -> None:
    """Send a reply as one message where it fits, else as the photo then one text."""
    markup = keyboard(reply.buttons)
    photo: Message | None = None
    if reply.chart is not None:
        whole = reply.caption()
        caption = whole or reply.chart.caption
        try:
            photo = await _send_chart(
                context, chat_id, reply.chart, caption, reply_to, markup if whole else None
            )
        except BadRequest as exc:  # a refused picture must not cost the user the answer
            log.warning("chart %s refused: %s", reply.chart.key, exc)
        if photo is not None and whole is not None:
            return
    parts = split(reply.html)
    sent: Message | None = None
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        sent = await context.bot.send_message(
            chat_id,
            part,
            reply_markup=markup if last else None,
            reply_parameters=reply_to if i == 0 and photo is None else None,
        )
    if photo is not None and sent is not None:
        services(context).photos[(chat_id, sent.message_id)] = photo.message_id


async def _send_chart(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    chart: Chart,
    caption: str,
    reply_to: ReplyParameters | None,
    markup: InlineKeyboardMarkup | None,
) -> Message:
    s = services(context)
    file_id = s.file_ids.get(chart.key)
    if file_id is not None:
        with contextlib.suppress(BadRequest):  # an expired file_id: upload it again below
            return await context.bot.send_photo(
                chat_id, file_id, caption=caption, reply_parameters=reply_to, reply_markup=markup
            )
    photo = InputFile(chart.png, filename="chart.png")
    sent: Message = await context.bot.send_photo(
        chat_id, photo, caption=caption, reply_parameters=reply_to, reply_markup=markup
    )
    _remember(s, chart, sent)
    return sent


def _remember(s: Services, chart: Chart, sent: Message | bool) -> None:
    if isinstance(sent, Message) and sent.photo:
        s.file_ids[chart.key] = sent.photo[-1].file_id


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> None:
    """A tapped button's answer, edited into the message the button sits under; a new
    answer when that message cannot become it (a text cannot become a photo)."""
    query = update.callback_query
    message = query.message if query is not None else None
    try:
        done = isinstance(message, Message) and await _edit(context, message, reply)
    except BadRequest as exc:
        if _unchanged(exc):
            return
        log.warning("could not edit the message in place: %s", exc)
        done = False
    if not done:
        await send(update, context, reply)


def _unchanged(exc: BadRequest) -> bool:
    return "not modified" in exc.message.lower()


async def _edit(context: ContextTypes.DEFAULT_TYPE, message: Message, reply: Reply) -> bool:
    markup = keyboard(reply.buttons)
    caption = reply.caption()
    if message.photo:
        if reply.chart is None or caption is None:
            return False
        await _edit_chart(context, message.chat_id, message.message_id, reply, caption, markup)
        return True
    if len(split(reply.html)) > 1:
        return False
    photo = services(context).photos.get((message.chat_id, message.message_id))
    if reply.chart is not None:
        if photo is None:
            return False
        try:
            await _edit_chart(context, message.chat_id, photo, reply, reply.chart.caption, None)
        except BadRequest as exc:
            if not _unchanged(exc):
                raise
    await context.bot.edit_message_text(
        reply.html, message.chat_id, message.message_id, reply_markup=markup
    )
    return True


async def _edit_chart(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    message_id: int,
    reply: Reply,
    caption: str,
    markup: InlineKeyboardMarkup | None,
) -> None:
    chart = reply.chart
    if chart is None:
        return
    s = services(context)
    file_id = s.file_ids.get(chart.key)
    media = file_id or InputFile(chart.png, filename="chart.png", attach=True)
    photo = InputMediaPhoto(media, caption=caption, parse_mode=ParseMode.HTML)
    edited = await context.bot.edit_message_media(
        photo, chat_id=chat_id, message_id=message_id, reply_markup=markup
    )
    _remember(s, chart, edited)


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
    reply = await drawing(
        update, context, lambda: guarded(command, lambda: view(store, lang, args), store, lang)
    )
    await send(update, context, await with_followed(update, context, reply))


async def with_followed(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> Reply:
    """The reply with 🔕 on what this chat already follows."""
    chat = update.effective_chat
    if chat is None or not any(b.data.startswith("sub:") for row in reply.buttons for b in row):
        return reply
    items = await asyncio.to_thread(subscriptions.of_chat, services(context).store, chat.id)
    followed = {(s.company, s.metric) for s in items}
    lang = await lang_of(update, context)
    return dataclasses.replace(reply, buttons=navigation.followed(reply.buttons, followed, lang))


async def drawing(update: Update, context: ContextTypes.DEFAULT_TYPE, make: Callable[[], T]) -> T:
    """A reply made in a worker thread, with "sending photo…" shown if it takes a while
    (a chart being drawn)."""
    chat = update.effective_chat
    if chat is None:
        return await asyncio.to_thread(make)
    async with typing(context, chat.id, ChatAction.UPLOAD_PHOTO, after=DRAWING_AFTER_S):
        return await asyncio.to_thread(make)


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
async def typing(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    action: str = ChatAction.TYPING,
    after: float = 0.0,
) -> AsyncIterator[None]:
    """Show "typing…" (or "sending photo…") in the chat until the block ends; with `after`,
    only once the block has taken that long, so quick answers cost no extra request."""

    async def keep_typing() -> None:
        await asyncio.sleep(after)
        while True:
            with contextlib.suppress(Exception):  # a lost indicator must not stop the answer
                await context.bot.send_chat_action(chat_id, action)
            await asyncio.sleep(TYPING_EVERY_S)

    async with _alongside(keep_typing()):
        yield


@contextlib.asynccontextmanager
async def progress(
    update: Update, context: ContextTypes.DEFAULT_TYPE, lang: Lang, llm: bool
) -> AsyncIterator[None]:
    """While an answer is made: in a private chat, when the LLM answers, a draft naming the
    step (no figure ever: the answer itself comes as a normal message after the claim
    check); elsewhere "typing…"."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or message is None or chat.type != ChatType.PRIVATE or not llm:
        async with typing(context, chat.id if chat else 0):
            yield
        return

    async def steps() -> None:
        for step in DRAFT_STEPS:
            with contextlib.suppress(Exception):  # a lost draft must not stop the answer
                await context.bot.send_message_draft(chat.id, message.message_id, t(step, lang))
            await asyncio.sleep(DRAFT_STEP_S)

    async with _alongside(steps()):
        yield


@contextlib.asynccontextmanager
async def _alongside(work: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Run `work` while the block runs, and stop it when the block ends."""
    task = asyncio.create_task(work)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
