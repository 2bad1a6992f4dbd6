"""Subscriptions from the chat: /subscribe, /unsubscribe, /subscriptions, the 🔔/🔕 buttons
(which flip in place) and the 🔕 under each row of /subscriptions. In groups only the
chat's administrators (getChatMember) change what the group follows."""

from __future__ import annotations

import asyncio
import contextlib

from telegram import CallbackQuery, Chat, InlineKeyboardButton, Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.telegram import commands, navigation
from bot.telegram.replies import guarded, keyboard, lang_of, send, send_html, services, show
from bot.text.i18n import Lang, t
from bot.text.markup import esc, visible
from tools.store import Store

TOAST_ACTIONS: dict[str, commands.ChatView] = {
    "sub": commands.subscribe,
    "unsub": commands.unsubscribe,
}


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Follow the ranking or a company when /subscribe [company] [metric] is issued."""
    await _chat_view(update, context, "sub", commands.subscribe)


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop following a company, or everything, when /unsubscribe [company] is issued."""
    await _chat_view(update, context, "unsub", commands.unsubscribe)


async def subscriptions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List what this chat follows when /subscriptions is issued."""
    await _chat_view(
        update,
        context,
        "subscriptions",
        commands.subscription_list,
    )


async def _chat_view(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, view: commands.ChatView
) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    lang = await lang_of(update, context)
    if action in TOAST_ACTIONS and not await may_change_subscriptions(update, context):
        await send_html(update, context, esc(t("admins_only_subscriptions", lang)))
        return
    store = services(context).store
    args = context.args or []
    reply = await asyncio.to_thread(
        guarded, action, lambda: view(store, lang, chat.id, args), store, lang
    )
    await send(update, context, reply)


async def toast(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, args: list[str]
) -> None:
    """(Un)subscribe, say the outcome in the small notice over the chat, and flip the
    button between 🔔 and 🔕."""
    allowed = await _allowed_tap(update, context)
    if allowed is None:
        return
    chat, query, lang = allowed
    store = services(context).store
    view = TOAST_ACTIONS[action]
    words = _subscription_words(store, action, args)
    reply = await asyncio.to_thread(
        guarded, action, lambda: view(store, lang, chat.id, words), store, lang
    )
    await query.answer(visible(reply.html)[:200])
    await _flip(context, query, lang)


async def remove(update: Update, context: ContextTypes.DEFAULT_TYPE, args: list[str]) -> None:
    """A 🔕 under /subscriptions: that subscription goes, and the list is shown again."""
    allowed = await _allowed_tap(update, context)
    if allowed is None:
        return
    chat, query, lang = allowed
    store = services(context).store
    words = _subscription_words(store, "unsub", args)
    done = await asyncio.to_thread(
        guarded, "unsub", lambda: commands.unsubscribe(store, lang, chat.id, words), store, lang
    )
    await query.answer(visible(done.html)[:200])
    listing = await asyncio.to_thread(commands.subscription_list, store, lang, chat.id, [])
    await show(update, context, listing)


async def _allowed_tap(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> tuple[Chat, CallbackQuery, Lang] | None:
    """A subscription button's chat, query and language, or None when there is nothing to do
    or the tapper may not change this chat's subscriptions (told so in the notice)."""
    chat, query = update.effective_chat, update.callback_query
    if chat is None or query is None:
        return None
    lang = await lang_of(update, context)
    if not await may_change_subscriptions(update, context):
        await query.answer(t("admins_only_subscriptions", lang))
        return None
    return chat, query, lang


def _subscription_words(store: Store, action: str, args: list[str]) -> list[str]:
    """Button data (company key, metric index) as the words /subscribe and /unsubscribe take;
    a key that is not a company is passed on as a name (the view then suggests)."""
    company = args[0] if args else ""
    metric = navigation.metric_of(args[1]) if len(args) > 1 else None
    cid = (commands.company_id(store, company) or company) if company else ""
    if action == "unsub":
        return [cid or commands.RANKING_WORDS[0]]
    return [w for w in (cid, metric) if w]


async def _flip(context: ContextTypes.DEFAULT_TYPE, query: CallbackQuery, lang: Lang) -> None:
    message = query.message
    if not isinstance(message, Message) or message.reply_markup is None:
        return
    rows = [
        [navigation.flipped(b.text, _data(b), query.data, lang) for b in row]
        for row in message.reply_markup.inline_keyboard
    ]
    with contextlib.suppress(BadRequest):
        await context.bot.edit_message_reply_markup(
            message.chat.id, message.message_id, reply_markup=keyboard(rows)
        )


async def may_change_subscriptions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """In a private chat, the user; in a group, only its administrators."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return False
    if chat.type == ChatType.PRIVATE:
        return True
    member = await context.bot.get_chat_member(chat.id, user.id)
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


def _data(button: InlineKeyboardButton) -> str | None:
    """A button's callback data (None for the kinds that carry none, like a game button)."""
    return button.callback_data if isinstance(button.callback_data, str) else None
