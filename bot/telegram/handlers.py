"""Telegram handlers: one short function per command, in the style of the python-telegram-bot
examples. Wiring lives in bot.telegram_app; the answers themselves in bot.views."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from telegram import Bot, Message, Update
from telegram.constants import ChatType, MessageEntityType
from telegram.error import BadRequest, Forbidden
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.telegram import (
    commands,
    following,
    freetext,
    navigation,
    pages,
    platform,
    updates,
    users,
    warmup,
)
from bot.telegram.fairness import FairUpdateProcessor
from bot.telegram.replies import (
    drawing,
    guarded,
    keyboard,
    lang_of,
    progress,
    run_view,
    send,
    send_html,
    services,
    show,
    with_followed,
)
from bot.text.i18n import Lang, parse, t
from bot.text.markup import esc
from tools.errors import ToolkitError
from tools.store import Store
from tools.taxonomy import DEFAULT_METRIC

if TYPE_CHECKING:  # the agent loads lazily (bot.telegram.app.default_answer)
    from bot.agent.answers import Action

log = logging.getLogger(__name__)
IMPORT_SUFFIXES = (".yaml", ".yml", ".json")


async def drop_redelivered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop an update that was handled before (Telegram redelivers after a crash)."""
    store = services(context).store
    if not await asyncio.to_thread(updates.first_delivery, store, update.update_id):
        log.info("update %s was already handled; skipped", update.update_id)
        raise ApplicationHandlerStop


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the commands with examples when /help is issued."""
    lang = await lang_of(update, context)
    await send_html(update, context, pages.help_text(lang, context.bot.username))


async def lang(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Set the user's language when /lang zh|en is issued."""
    choice = parse((context.args or [""])[0])
    user = update.effective_user
    if choice is None or user is None:
        await send_html(update, context, esc(t("lang_usage", await lang_of(update, context))))
        return
    s = services(context)
    await asyncio.to_thread(users.set_lang, s.store, user.id, choice)
    s.langs[user.id] = choice
    await send_html(update, context, esc(t("lang_set", choice)))


async def rank(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the ranking and its chart when /rank [metric] [period] is issued."""
    await run_view(update, context, "rank", context.args or [])


async def tiers(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a company's four-layer breakdown and its chart when /tiers <company> is issued."""
    await run_view(update, context, "tiers", context.args or [])


async def company(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a company's inputs and sources (or the list of companies) on /company."""
    await run_view(update, context, "company", context.args or [])


async def compare(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send companies side by side when /compare <a> <b> is issued."""
    await run_view(update, context, "compare", context.args or [])


async def history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a company's rank history when /history <company> is issued."""
    await run_view(update, context, "history", context.args or [])


async def whatif(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send a what-if scenario when /whatif <company> key=value is issued."""
    await run_view(update, context, "whatif", context.args or [])


async def sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the sources behind the data when /sources [company] is issued."""
    await run_view(update, context, "sources", context.args or [])


async def methodology(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send how the numbers are made when /methodology is issued."""
    await run_view(update, context, "methodology", context.args or [])


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Run what a tapped inline button stands for, in place of the message it sits under:
    a company view, a ranking page or toggle, a picker or sources page; (un)subscribe
    answers in the small notice and flips the button."""
    query = update.callback_query
    if query is None:
        return
    action, args = navigation.parse(query.data or "")
    if action in following.TOAST_ACTIONS:
        await following.toast(update, context, action, args)
        return
    if action == "rm":
        await following.remove(update, context, args)
        return
    await query.answer()
    if action == "pick" and len(args) == 2 and args[1].isdigit():
        await _turn_picker(update, context, args[0], int(args[1]))
        return
    lang = await lang_of(update, context)
    store = services(context).store
    make = _tapped(store, lang, action, args)
    if make is not None:
        reply = await drawing(update, context, make)
        await show(update, context, await with_followed(update, context, reply))


def _tapped(
    store: Store, lang: Lang, action: str, args: list[str]
) -> Callable[[], commands.Reply] | None:
    """What a button's data asks for, to be made in a worker thread; None for nothing."""
    if action == "rank" and len(args) == 4 and args[3].isdigit():
        metric = navigation.metric_of(args[0]) or DEFAULT_METRIC
        period, region = (None if a == navigation.ALL else a for a in args[1:3])
        return lambda: guarded(
            action,
            lambda: commands.rank_page(store, lang, metric, period, region, int(args[3])),
            store,
            lang,
        )
    if action == "srcs" and args and args[0].isdigit():
        return lambda: commands.source_page(store, lang, int(args[0]))
    if action in commands.COMMAND_VIEWS and args:
        view = commands.COMMAND_VIEWS[action]

        def make() -> commands.Reply:
            cid = commands.company_id(store, args[0]) or args[0]
            return guarded(action, lambda: view(store, lang, [cid]), store, lang)

        return make
    return None


async def _turn_picker(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, page: int
) -> None:
    """Another page of a company picker: only the buttons change."""
    query = update.callback_query
    if query is None or query.message is None:
        return
    lang = await lang_of(update, context)
    store = services(context).store
    rows = await asyncio.to_thread(commands.picker, store, lang, action, page)
    with contextlib.suppress(BadRequest):  # the same page again: "message is not modified"
        await context.bot.edit_message_reply_markup(
            query.message.chat.id, query.message.message_id, reply_markup=keyboard(rows)
        )


def addressed_to(message: Message, bot: Bot) -> bool:
    """In private chats always; in groups when the bot is mentioned or replied to."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
        return True
    mentions = message.parse_entities([MessageEntityType.MENTION, MessageEntityType.TEXT_MENTION])
    for entity, text in mentions.items():
        if text.lower() == f"@{bot.username}".lower() or (entity.user and entity.user.id == bot.id):
            return True
    return False


def _question_text(message: Message, bot: Bot) -> str:
    return re.sub(rf"@{re.escape(bot.username)}\b", " ", message.text or "", flags=re.I).strip()


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer any other text through the agent, one question at a time per user."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or not addressed_to(message, context.bot):
        return
    lang = await lang_of(update, context)
    text = _question_text(message, context.bot)
    s = services(context)
    if not text:
        await send_html(update, context, esc(t("hint_unsupported", lang)))
    elif user.id in s.busy:
        await send_html(update, context, esc(t("busy", lang)))
    else:
        s.busy.add(user.id)
        try:
            await _answer(update, context, text, user.id)
        finally:
            s.busy.discard(user.id)


async def _answer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, user_id: int
) -> None:
    s = services(context)
    chat_id = update.effective_message.chat_id if update.effective_message else user_id
    lang = await lang_of(update, context)
    notes = []
    if len(text) > s.settings.question_limit:
        text = text[: s.settings.question_limit]
        notes.append(t("cut_note", lang, n=s.settings.question_limit))
    limit = s.settings.llm_daily_limit
    # Without an LLM configured every answer is offline: nothing to count or warn about.
    allowed = not s.llm.enabled or await asyncio.to_thread(
        users.take_llm_question, s.store, user_id, limit
    )
    if not allowed:
        notes.append(t("quota_note", lang, n=limit))
    async with progress(update, context, lang, llm=s.llm.enabled and allowed):
        answer = await s.answer(
            text,
            store=s.store,
            settings=s.llm,
            lang=s.langs.get(user_id),  # None lets the agent answer in the question's language
            chat_id=str(chat_id),
            user_id=str(user_id),
            allow_llm=allowed,
        )
    if answer.note:
        notes.append(answer.note)
    footer = "\n".join(f"<i>{esc(n)}</i>" for n in notes)
    html = esc(answer.text) + ("\n\n" + footer if footer else "")
    reply = await _with_view(update, context, html, answer.tool_calls)
    confirm = _confirm(answer.action, lang)
    await send(update, context, replace(reply, buttons=[*confirm, *reply.buttons]))


async def _with_view(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    html: str,
    calls: Sequence[freetext.ToolCall],
) -> commands.Reply:
    """The answer with the chart and buttons of the command it amounts to, if any, and that
    command's deep link, so a forwarded answer opens the same view."""
    lang, store = await lang_of(update, context), services(context).store
    try:
        match = await drawing(update, context, lambda: freetext.matching(store, lang, calls))
    except ToolkitError:  # the answer stands on its own
        match = None
    if match is None:
        return commands.Reply(html)
    link = platform.deep_link(context.bot.username, match.command, match.company or "")
    html += f'\n\n<a href="{esc(link)}">{esc(t("share_view", lang))}</a>'
    return commands.Reply(html, match.reply.chart, match.reply.buttons)


def _confirm(action: Action | None, lang: Lang) -> list[list[commands.Button]]:
    """A subscription asked for in words, as a button in the commands' callback format; the
    callback (un)subscribes the chat it is tapped in, which is the chat that asked."""
    if action is None:
        return []
    if action.kind == "subscribe":
        data = f"sub:{action.company or ''}:{action.metric}"
        return [[commands.Button(t("btn_subscribe", lang), data)]]
    return [[commands.Button(t("btn_unsubscribe", lang), f"unsub:{action.company or ''}")]]


async def unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what the bot can read when a sticker, photo or other non-text message arrives."""
    lang = await lang_of(update, context)
    await send_html(update, context, esc(t("hint_unsupported", lang)))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Point to /help for a command the bot does not have (in groups only if addressed to it)."""
    message = update.effective_message
    if message is None or not message.text:
        return
    command = message.text.split()[0].lower()
    if message.chat.type != ChatType.PRIVATE and f"@{context.bot.username}".lower() not in command:
        return
    lang = await lang_of(update, context)
    await send_html(update, context, esc(t("unknown_command", lang)))


async def import_hint(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Explain how to upload data when /import arrives without a file."""
    lang = await lang_of(update, context)
    allowed = _is_admin(update, context)
    await send_html(update, context, esc(t("import_hint" if allowed else "admin_only", lang)))


def _is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    user = update.effective_user
    return user is not None and user.id in services(context).settings.admin_ids


async def import_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Validate and import a data file an admin sent with the caption /import."""
    lang = await lang_of(update, context)
    message, user = update.effective_message, update.effective_user
    if not _is_admin(update, context) or message is None or user is None:
        await send_html(update, context, esc(t("admin_only", lang)))
        return
    s = services(context)
    document = message.document
    name = Path(document.file_name or "upload").name if document else ""
    limit = s.settings.import_max_bytes
    if (
        document is None
        or not name.lower().endswith(IMPORT_SUFFIXES)
        or (document.file_size or 0) > limit
    ):
        await send_html(update, context, esc(t("import_bad_file", lang, kb=limit // 1000)))
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / re.sub(r"[^\w.\-]", "_", name)
        await (await document.get_file()).download_to_drive(path)
        if path.stat().st_size > limit:
            await send_html(update, context, esc(t("import_bad_file", lang, kb=limit // 1000)))
            return
        reply = await asyncio.to_thread(commands.import_file, s.store, lang, path, str(user.id))
    await send(update, context, reply)
    if context.job_queue is not None and s.settings.warm_up:
        context.job_queue.run_once(warm_up, when=0, name="warm-up")  # charts of the new data


async def warm_up(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Draw the charts users ask for most, so the first /rank and /tiers are quick too."""
    s = services(context)
    s.warmed = await asyncio.to_thread(s.store.latest_revision)
    app = context.application
    processor = app.update_processor
    busy = (lambda: processor.running > 0) if isinstance(processor, FairUpdateProcessor) else None
    await asyncio.to_thread(warmup.warm, s.store, lambda: not app.running, busy)


async def watch_revisions(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Warm the charts of a new revision however it came (the CLI's import included)."""
    s = services(context)
    if await asyncio.to_thread(s.store.latest_revision) != s.warmed:
        await warm_up(context)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error and apologise to the user in their language."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if isinstance(context.error, Forbidden):
        return  # the user blocked the bot: nobody to apologise to
    try:
        lang = await lang_of(update, context)
        await context.bot.send_message(update.effective_chat.id, esc(t("sorry", lang)))
    except Exception:  # the apology failed too (network, database): the error is logged above
        log.warning("could not send the apology", exc_info=True)
