"""Questions the data does not answer, and subscriptions asked for in words (issue 12):
share prices, buy/sell advice, weather, attempts to steer the bot, subscribing somebody else.

Keyword tables over text folded by intents.fold (NFKC, lowercase, simplified Chinese).
"""

from __future__ import annotations

import re
from typing import Literal

from bot.agent.intents import Intent, has, intent_of, metric_of

# Why a question is not answered from the data: prices, advice, weather and the like, a company
# the data lacks, an attempt to steer the bot, or a subscription for somebody else.
OutOfScope = Literal["price", "advice", "other", "unknown_company", "injection", "others"]

# fmt: off
OUT_OF_SCOPE_WORDS: dict[OutOfScope, tuple[str, ...]] = {
    "injection": (
        "ignore all previous", "ignore previous", "ignore your", "system prompt", "developer mode",
        "forget your", "forget previous", "forget all", "you are now", "pretend to be",
        "忽略之前", "忽略以上", "忽略所有", "系统提示词", "提示词", "忘掉你的", "忘记你的", "忘掉之前",
        "忘记之前", "现在你是", "你现在是", "扮演",
    ),
    # before prices: "股票能买吗" asks for advice
    "advice": (
        "该买", "该卖", "能买", "可以买", "可以卖了", "要不要买", "值得买", "值得投资", "持有",
        "抄底", "加仓", "减仓", "买入", "清仓", "止损", "股票推荐", "荐股", "should i buy",
        "should i sell", "buy or sell", "worth buying", "good investment", "invest in",
    ),
    "price": (
        "股价", "股票", "目标价", "市值", "stock", "share price", "price target", "target price",
        "market cap",
    ),
    "other": (
        "天气", "下雨", "下雪", "气温", "weather", "rain", "彩票", "lottery", "bitcoin", "比特币",
    ),
}
SUBSCRIBE_WORDS = (
    "提醒我", "通知我", "订阅", "帮我关注", "关注一下", "告诉我一声", "alert me", "notify me", "subscribe", "let me know when",
    "ping me", "remind me",
)
UNSUBSCRIBE_WORDS = (
    "取消订阅", "退订", "不要再提醒", "别再提醒", "不用提醒", "取消提醒", "unsubscribe",
    "stop alert", "stop notifying", "stop reminding",
)
# "别再给我推送了" / "stop the alerts please": a stop said in other words than the command's.
_STOP = re.compile(
    r"(?:别|不要|不用|不想|停止|停掉|关掉|关闭|取消)再?(?:给我)?(?:收到)?(?:发|推送|推|提醒|通知)"
    r"|(?<![a-z])(?:stop|no more|turn off|disable|mute)(?![a-z]).{0,24}?"
    r"(?<![a-z])(?:alert|notification|push|remind|ping|message)"
)
# "英伟达明天会涨吗": a price move, when the question names nothing the data measures
# ("小米的排名会涨吗" asks about the ranking).
PRICE_MOVE_WORDS = ("会涨", "会跌", "涨吗", "跌吗", "涨不涨", "会不会涨", "会不会跌", "go up tomorrow")
# A subscription for anybody but the requesting chat is refused.
OTHERS_WORDS = (
    "所有人", "大家", "群里", "群成员", "他们", "朋友", "everyone", "everybody", "all members",
    "my friend", "@",
)
# fmt: on


def out_of_scope(text: str) -> OutOfScope | None:
    """Why the question is not one the data answers, if it is not."""
    if has(text, SUBSCRIBE_WORDS) and has(text, OTHERS_WORDS):
        return "others"
    if why := next((w for w, words in OUT_OF_SCOPE_WORDS.items() if has(text, words)), None):
        return why
    about_data = intent_of(text) is not None or metric_of(text) is not None
    return "price" if has(text, PRICE_MOVE_WORDS) and not about_data else None


def subscription_of(text: str) -> Intent | None:
    if has(text, UNSUBSCRIBE_WORDS) or _STOP.search(text):
        return "unsubscribe"
    return "subscribe" if has(text, SUBSCRIBE_WORDS) else None
