"""What makes the bot at home in Telegram beyond commands: its profile texts, /start with
buttons and deep links (t.me/<bot>?start=tiers_xiaomi), a greeting when added to a group,
and inline mode (@bot 小米 in any chat offers the tier card, ranking and profile)."""

from __future__ import annotations

import asyncio
import logging

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResult,
    InlineQueryResultArticle,
    InlineQueryResultCachedPhoto,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.ext import ContextTypes

from bot.telegram import commands, navigation, pages
from bot.telegram.commands import Reply
from bot.telegram.navigation import Button
from bot.telegram.replies import Services, deliver, lang_of, run_view, services
from bot.text.i18n import Lang, t
from bot.text.markup import esc, split, visible
from tools.errors import ToolkitError, UnknownCompany
from tools.taxonomy import DEFAULT_METRIC

# Our languages with Telegram's language_code for them (None: the default for everyone else).
LANG_CODES: tuple[tuple[Lang, str | None], ...] = (("en", None), ("zh", "zh"))

log = logging.getLogger(__name__)
LINKED = ("tiers", "history", "company", "sources")  # views a deep link may open
INLINE_CACHE_S = 300
JOINED = (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR)


async def describe(bot: Bot) -> None:
    """The "What can this bot do?" screen and the profile line, in both languages."""
    for lang, code in LANG_CODES:
        await bot.set_my_description(t("bot_description", lang), language_code=code)
        await bot.set_my_short_description(t("bot_short_description", lang), language_code=code)


def start_buttons(lang: Lang) -> list[list[Button]]:
    rank = navigation.data("rank", DEFAULT_METRIC, navigation.ALL, navigation.ALL, "1")
    return [
        [
            Button(t("btn_rank", lang), rank),
            Button(t("btn_tiers", lang), navigation.data("pick", "tiers", "1")),
        ]
    ]


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: the welcome with buttons, or the view a deep link names (tiers_xiaomi)."""
    payload = (context.args or [""])[0]
    view, _, company = payload.partition("_")
    if view in LINKED and company:
        await run_view(update, context, view, [company])
        return
    if view == "rank":
        await run_view(update, context, "rank", [])
        return
    lang = await lang_of(update, context)
    html = pages.start(lang, context.bot.username)
    await _send(update, context, Reply(html, buttons=start_buttons(lang)))


async def _send(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> None:
    chat = update.effective_chat
    if chat is not None:
        await deliver(context, chat.id, reply, None)


async def joined(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A short greeting with buttons when someone adds the bot to a group."""
    change = update.my_chat_member
    if change is None or change.chat.type == ChatType.PRIVATE:
        return
    was_in = change.old_chat_member.status in JOINED
    if was_in or change.new_chat_member.status not in JOINED:
        return
    lang = await lang_of(update, context)
    await _send(update, context, Reply(esc(t("group_hello", lang)), buttons=start_buttons(lang)))


def deep_link(bot_username: str, view: str, company: str = "") -> str:
    """t.me/<bot>?start=tiers_xiaomi opens a company's view; ?start=rank the ranking."""
    return f"https://t.me/{bot_username}?start={view}_{company}".rstrip("_")


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """@bot <company>: its tier card (the chart as a cached photo once Telegram has a copy),
    the ranking and its profile, each shareable into any chat; with no company, the ranking."""
    query = update.inline_query
    if query is None:
        return
    lang = await lang_of(update, context)
    s = services(context)
    results = await asyncio.to_thread(_results, s, lang, query.query.strip(), context.bot.username)
    await query.answer(results, cache_time=INLINE_CACHE_S)


def _results(s: Services, lang: Lang, text: str, bot_username: str) -> list[InlineQueryResult]:
    ranked = commands.rank(s.store, lang, [])
    results: list[InlineQueryResult] = []
    cid = _company(s, text) if text else None
    if cid is not None:
        tiers = commands.tiers(s.store, lang, [cid])
        profile = commands.company(s.store, lang, [cid])
        open_ = _open_button(lang, bot_username, "tiers", cid)
        results.append(_card(s, "tiers", cid, tiers, open_))
        results.append(
            _article("company", cid, profile, _open_button(lang, bot_username, "company", cid))
        )
    results.append(_article("rank", "all", ranked, None))
    return results


def _company(s: Services, text: str) -> str | None:
    try:
        return commands.resolve(s.store, text)
    except (UnknownCompany, ToolkitError):
        return None


def _open_button(lang: Lang, bot_username: str, view: str, cid: str) -> InlineKeyboardMarkup:
    """Inline messages carry a link into the bot rather than callbacks (the bot cannot edit a
    message it did not send into a chat)."""
    label = t("btn_" + view, lang)
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, url=deep_link(bot_username, view, cid))]]
    )


def _card(
    s: Services, view: str, cid: str, reply: Reply, markup: InlineKeyboardMarkup
) -> InlineQueryResult:
    chart = reply.chart
    file_id = s.file_ids.get(chart.key) if chart is not None else None
    if chart is None or file_id is None:
        return _article(view, cid, reply, markup)
    caption = reply.caption() or chart.caption
    return InlineQueryResultCachedPhoto(
        _result_id(view, cid),
        file_id,
        title=_title(reply),
        caption=caption,
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
    )


def _article(
    view: str, cid: str, reply: Reply, markup: InlineKeyboardMarkup | None
) -> InlineQueryResult:
    content = InputTextMessageContent(split(reply.html)[0], parse_mode=ParseMode.HTML)
    return InlineQueryResultArticle(
        _result_id(view, cid), _title(reply), content, reply_markup=markup
    )


def _result_id(view: str, cid: str) -> str:
    return f"{view}:{navigation.key(cid)}"


def _title(reply: Reply) -> str:
    return visible(reply.html.split("\n", 1)[0])[:100]
