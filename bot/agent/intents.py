"""What a question asks, read from its words: intents, metrics, terms, periods, what-if changes.

Deterministic keyword tables for Chinese and English. Matching runs on NFKC-folded, lowercased
text; English keywords match at word starts, so "rank" finds "ranking" but not "frank".
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Literal

from opencc import OpenCC

from tools.taxonomy import METRICS

Intent = Literal[
    "rank", "tiers", "profile", "compare", "history", "whatif", "methodology", "help",
    "subscribe", "unsubscribe", "out_of_scope",
]  # fmt: skip

Focus = Literal["why", "sure"]

# fmt: off
# Checked in this order; the first intent with a keyword in the question wins (what-if and
# history questions also say "rank", and "how is the ranking computed" asks for a definition).
INTENT_WORDS: list[tuple[Intent, tuple[str, ...]]] = [
    # "how sure" is the ranking's p10-p90 and rank range; "where from" is the profile's sources
    ("rank", CONFIDENCE_WORDS := (
        "how sure", "how confident", "confidence", "uncertain", "margin of error", "置信",
        "多确定", "把握", "靠谱吗", "靠不靠谱", "可靠", "可信", "不确定", "准吗", "准不准", "准确", "区间", "p10", "p90", "reliable",
        "accurate", "interval",
    )),
    ("profile", SOURCE_WORDS := (
        "come from", "source", "where is that from", "where's that from", "来源", "出处", "哪来的",
        "从哪来", "哪里来", "数据从哪",
    )),
    ("whatif", (
        "what if", "suppose", "hypothetical", "scenario", "what would happen", "what happens if",
        "如果", "假如", "假设", "要是", "倘若", "会怎样", "会怎么样", "会如何", "会发生什么",
    )),
    ("history", (
        "history", "changed", "change", "over time", "since", "trend", "moved", "last year",
        "evolv", "move up", "move down", "moved up", "went up", "went down", "climb",
        "变化", "历史", "这两年", "这几年", "趋势", "以来", "变动", "去年", "演变", "升降", "上升", "下滑", "怎么变", "变了", "走势", "近几年",
        "历年",
    )),
    ("methodology", (
        "define", "definition", "meaning", "mean", "methodology", "formula", "calculat", "computed",
        "定义", "意思", "含义", "方法", "怎么算", "如何计算", "口径",
    )),
    ("tiers", (
        "layer", "tier", "break down", "breakdown", "split", "what kind of", "archetype",
        "type of company", "categor", "classif", "supplier", "seller or", "self-user", "edge",
        "层次", "分层", "四层", "拆分", "分布", "类型", "卖水", "用水", "属于", "算是", "哪一类", "哪类",
        "定位", "角色", "层级", "结构", "端侧", "边缘",
    )),
    ("compare", ("compar", "vs", "versus", "对比", "比一比", "比较", "相比")),
    ("rank", (
        "rank", "top", "order", "sort", "leaderboard", "highest", "lowest", "who leads", "the most",
        "biggest", "largest", "which compan", "stand", "position", "排名", "排第", "排序", "排个序",
        "第几", "几名", "排多少", "多少名", "名次", "榜", "倒数", "垫底", "最后一名", "前几", "最高", "最低", "领先", "最多", "最大", "哪家", "位置", "排在",
    )),
    ("profile", (
        "how much", "capex", "spend", "tell me about", "profile", "overview", "details", "about",
        "多少", "资本开支", "介绍", "概况", "情况", "资料", "详情", "怎么样",
    )),
    ("methodology", (
        "what is", "what's", "what are", "explain", "why", "how is", "different", "difference",
        "什么是", "是什么", "为什么", "解释", "区别",
    )),
]
# "Why" asks for what put a company where it is (its inputs and the rule); for two companies,
# which inputs make the gap between them.
GAP_WORDS = ("gap", "which inputs", "差距", "差在", "差别", "哪些输入")
WHY_WORDS = ("why", "how come", "what makes", "为什么", "为啥", "怎么会", "凭什么", "原因", *GAP_WORDS)
# Words that make a question about two companies a comparison even when it names a topic.
COMPARE_WORDS = (
    "vs", "versus", "compar", "than", "which", "who", "better", "ahead", "behind", "higher", "lower",
    "领先", "落后", "谁", "比", "对比", "相比", "哪个", "更",
)
HELP_WORDS = (
    "what can you do", "help", "how do i use", "what do you do", "commands", "who are you", "你能做什么",
    "帮助", "怎么用", "你会什么", "你是谁", "能干什么", "有什么功能", "使用说明",
)
# Intents that are about one or more companies; without a company they cannot run.
NEEDS_COMPANY: frozenset[Intent] = frozenset({"tiers", "profile", "history", "whatif"})

# Most specific first: "自用推理算力投入" must not stop at "自用推理".
METRIC_WORDS: dict[str, tuple[str, ...]] = {
    "self_use_inference_usd": (
        "自用推理算力投入", "自用推理投入", "self-use inference capex", "inference consumption", "inference consumer", "推理消费",
    ),
    "inference_self_use_ratio": ("推理自用率", "self-use ratio", "inference self-use ratio"),
    "external_supply_share": (
        "对外算力占比", "对外", "外供", "external supply", "external share", "sold to outside",
        "sells", "to others", "卖给",
    ),
    "margin_position": ("毛利", "margin"),
    "ai_capex_usd": ("资本开支", "capex", "capital expenditure", "spend"),
    "self_use_inference_share": (
        "自用推理", "自用", "self-use", "self use", "own business", "own inference", "own-use",
        "for their own", "for its own",
    ),
}

TERM_WORDS: dict[str, tuple[str, ...]] = {
    "thesis": ("重自用者", "强内生", "看周期", "thesis", "命题", "为什么", "why", "overtak"),
    "iaas": ("iaas", "算力租赁", "compute rental"),
    "maas": ("maas", "模型即服务", "model as a service"),
    "solutions": ("解决方案", "agent", "solutions", "saas"),
    "edge": ("边缘推理", "边缘", "端侧", "edge", "on-device"),
    "supplier": ("卖水者", "卖水", "supplier", "selling water", "sells water"),
    "dual": ("双重角色", "dual"),
    "self_user": ("用水", "内驱", "自用型", "self-user", "self user"),
    "edge_builder": ("生态构建者", "ecosystem builder", "edge builder", "edge-builder"),
    **{k: v for k, v in METRIC_WORDS.items() if k != "ai_capex_usd"},
}

# A metric's absolute form: "按自用推理绝对投入" ranks the dollars, not the share.
ABSOLUTE_WORDS = ("绝对", "金额", "美元", "absolute", "in dollars", "dollar", "in usd")
# Selling phrases that name the external supply share without its name ("卖水最多").
SELLING_WORDS = (
    "卖水最多", "卖水更多", "卖水多", "卖算力", "sells the most", "sell the most", "sells more",
    "sell more", "sells compute", "sell compute", "selling compute",
)
# "更偏卖水" / "谁卖水多" / "卖水最多": who sells more, the external supply share.
_SELLS_MORE = re.compile(r"卖水.{0,2}[多更最]|[更最偏谁].{0,2}卖水")
# A question asking for the top or bottom of a metric ranks, whatever kind word it uses.
SUPERLATIVE_WORDS = (
    "最多", "最高", "最低", "最大", "老大", "the most", "highest", "lowest", "biggest", "largest",
    "谁", "who", "which compan", "哪家",
)
REGION_WORDS = {
    "CN": ("中国", "国内", "a股", "港股", "中概", "china", "chinese", "domestic"),
    "US": ("美国", "美股", "american", "u.s."),
}
# Start or end markers of a follow-up; "and" inside a question ("Meta and Alphabet") is none.
FOLLOWUP_START = ("那", "还有", "换成", "and ", "what about", "how about", "same for")
FOLLOWUP_END = ("呢",)
LIST_WORDS = (
    "list", "which compan", "which are", "who are", "哪些", "有哪些", "列出", "列一下", "名单", "哪几家",
    "都有谁",
)
ARCHETYPE_TERMS = ("supplier", "dual", "self_user", "edge_builder")


_CN_NUMBERS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}
# fmt: on


METRIC_NAMES = sorted(
    {fold_name for m in METRICS.values() for fold_name in (m.id, m.zh, m.en.casefold())},
    key=len,
    reverse=True,
)


_T2S = OpenCC("t2s")  # traditional → simplified characters; the keyword tables are simplified


def fold(text: str) -> str:
    """NFKC, lowercase and simplified Chinese: 騰訊的佔比 reads as 腾讯的占比."""
    return _T2S.convert(unicodedata.normalize("NFKC", text).casefold())


def has(text: str, words: tuple[str, ...]) -> bool:
    return first(text, words) is not None


def first(text: str, words: tuple[str, ...]) -> int | None:
    """Position of the earliest keyword in folded text (English ones at a word start)."""
    spots = []
    for word in words:
        match = _pattern(word).search(text)
        if match:
            spots.append(match.start())
    return min(spots, default=None)


@functools.cache
def _pattern(word: str) -> re.Pattern[str]:
    """Compiled once: the tables hold more words than the re module's own cache keeps."""
    return re.compile(re.escape(word) if not word[0].isascii() else rf"(?<![a-z]){re.escape(word)}")


def intent_of(text: str) -> Intent | None:
    # Metric names are not intents: "margin position" asks for no rank position.
    bare = re.sub("|".join(map(re.escape, METRIC_NAMES)), " ", text)
    if re.match(r"\s*if\s", bare):
        return "whatif"  # "if Google doubled its capex": a question opening with "if"
    return next((i for i, words in INTENT_WORDS if has(bare, words)), None)


def is_help(text: str) -> bool:
    return has(text, HELP_WORDS)


def metric_of(text: str) -> str | None:
    """The metric named earliest in the question (ties go to the more specific one)."""
    found = [
        (pos, i, m)
        for i, (m, w) in enumerate(METRIC_WORDS.items())
        if (pos := first(text, w)) is not None
    ]
    metric = min(found)[2] if found else None
    sells = has(text, SELLING_WORDS) or _SELLS_MORE.search(text)
    if sells and metric in (None, "external_supply_share"):
        return "external_supply_share"
    if metric in (None, "self_use_inference_share") and has(text, ABSOLUTE_WORDS):
        return "self_use_inference_usd"  # "按绝对投入": the thesis metric in dollars
    # "spends on its own inference": the capex behind self-use inference, not all of it
    named = {m for _, _, m in found}
    if {"ai_capex_usd", "self_use_inference_share"} <= named:
        return "self_use_inference_usd"
    return metric


def focus_of(text: str) -> Focus | None:
    """What the question wants to know about its answer: why it is so, or how sure it is."""
    if has(text, WHY_WORDS):
        return "why"
    return "sure" if has(text, CONFIDENCE_WORDS) else None


def is_superlative(text: str) -> bool:
    return has(text, SUPERLATIVE_WORDS)


_PRONOUN = re.compile(
    r"它|其(?![他中实余次])|这家|该公司|他家|(?<![a-z])(?:its?|that one|this one|that company)(?![a-z])"
)


def asks_about_the_last(text: str) -> bool:
    """ "how sure is that?", "where is that from?", a bare "why?", "which inputs make the
    gap?": about the last answer."""
    if has(text, (*CONFIDENCE_WORDS, *SOURCE_WORDS, *GAP_WORDS)):
        return True
    # "why?", "why is that", "为什么?" (a short "什么是卖水者?" is not: it asks no why)
    bare = re.sub(r"[\s?？!！.。]", "", text)
    rest = re.sub(r"why|为什么|为啥|怎么会", "", bare)
    return len(rest) < len(bare) and len(rest) <= 6


def refers_back(text: str) -> bool:
    """Whether the question points back at the previous turn's companies ("它的分层", "its capex")."""
    return bool(_PRONOUN.search(text))


def listed_kind(text: str) -> str | None:
    """The archetype a "list the suppliers" question asks for."""
    if not has(text, LIST_WORDS):
        return None
    return next((term for term in ARCHETYPE_TERMS if has(text, TERM_WORDS[term])), None)


def terms_of(text: str) -> list[str]:
    return [term for term, words in TERM_WORDS.items() if has(text, words)]


def region_of(question: str) -> str | None:
    if re.search(r"(?<![A-Za-z])US(?![A-Za-z])", question):
        return "US"
    text = fold(question)
    return next((r for r, words in REGION_WORDS.items() if has(text, words)), None)


def top_of(text: str) -> int | None:
    match = re.search(r"(?:top|前)\s*(\d{1,2}|[一二两三四五六七八九十])", text)
    if not match:
        return None
    raw = match.group(1)
    return int(raw) if raw.isdigit() else _CN_NUMBERS[raw]


# Capitalised words a question may hold that name no company.
_NOT_NAMES = frozenset(
    {"ai", "iaas", "maas", "saas", "us", "cn", "china", "chinese", "american", "gpu", "llm", "i"}
)


def names_someone(question: str) -> bool:
    """Whether an English question names something by a capitalised word after its first
    ("Break down Foobar's layers"); then an unknown company, not a definition, is meant."""
    words = re.findall(r"(?<=\s)[A-Z][A-Za-z0-9&.-]*", question)
    return any(re.split(r"[-'’]", w.casefold().rstrip("."))[0] not in _NOT_NAMES for w in words)


# Characters of the words that open questions without naming anyone (给我看看, 哪些公司).
_NOT_A_NAME = set("我你他她它谁哪什么怎这那给看请帮所有公司家些个按把列前")


def unknown_zh_subject(text: str) -> bool:
    """Whether a Chinese question opens with a name ("蔚来的capex", "理想汽车排第几"): asked
    with no company found, it names one the data lacks."""
    match = re.match(r"([\u4e00-\u9fff]{2,6}?)(?:的|排|是|和|跟|有|算|属于)", text)
    if not match:
        return False
    subject = match.group(1)
    keywords = (
        *(w for _, words in INTENT_WORDS for w in words),
        *(w for words in TERM_WORDS.values() for w in words),
        *(w for words in REGION_WORDS.values() for w in words),
        *SUPERLATIVE_WORDS,
    )
    return not (set(subject) & _NOT_A_NAME) and not has(subject, keywords)


def without_followup(text: str) -> str:
    """The question without its opening follow-up words: "what about 2025?" asks about
    nothing ("about" is a profile word)."""
    stripped = text.strip()
    for word in FOLLOWUP_START:
        if stripped.startswith(word):
            return stripped[len(word) :]
    return stripped


def compared_names(text: str) -> list[str]:
    """The names compared in "X vs Y" / "跟Y比" (an unknown Y names a company the data lacks)."""
    english = re.findall(r"(?<![a-z])(?:vs\.?|versus)\s+([a-z][a-z0-9.&-]+)", text)
    chinese = re.findall(r"(?:跟|和|与|同)([\u4e00-\u9fff]{2,4}?)(?:比|对比|相比)", text)
    return english + chinese


_AGAINST = re.compile(
    r"(?:跟|和|与|同)\S{1,12}?(?:比|相比|对比|比较)"
    r"|(?<![a-z])(?:compared? (?:to|with)|vs\.?|versus|against)(?![a-z])"
)


def compares_with(text: str) -> bool:
    """ "跟字节比呢" / "vs alibaba?" / "compared with Meta": a comparison with someone."""
    return bool(_AGAINST.search(text))


def is_followup(text: str) -> bool:
    short = len(text) <= 14 if not text.isascii() else len(text.split()) <= 5
    stripped = text.strip(" ?？!！。.")
    return (
        short
        or any(stripped.startswith(w) for w in FOLLOWUP_START)
        or any(stripped.endswith(w) for w in FOLLOWUP_END)
    )
