"""What a sentence of an answer says besides its figures: the metric a figure is said of,
whether its clause states a scenario, and which of two companies it says is ahead.

These bind a figure more tightly than its company alone: "Alibaba's AI capex is RMB 150bn" is
a capex claim (a share of 58% cannot back it), "if ByteDance sold half, its share would be
33%" is a scenario (a what-if's figure backs it; "ByteDance's share is 33%" it does not), and
"腾讯比字节跳动高20个百分点" says Tencent is ahead (the tools must agree). Text is case-folded.
"""

from __future__ import annotations

import re
import unicodedata

from bot.text import terms
from tools.taxonomy import LAYER_TERMS, METRICS

# Each metric or input of the data, as answers name it (longest first wins), by canonical id:
# an input and the metric it equals share an id (own inference = self-use inference share).
METRIC_WORDS: dict[str, tuple[str, ...]] = {
    "self_use_inference_usd": (
        "ai capex on inference for its own", "capex on inference", "self-use inference capex", "self-use inference spend", "self-use inference capital",
        "自用推理资本开支", "自身推理的资本开支", "自用推理的资本开支", "自用推理支出",
    ),
    "inference_self_use_ratio": ("inference self-use ratio", "推理自用比例", "推理自用率"),
    "self_use_inference_share": (
        "self-use inference share", "self-use share", "own inference", "own-inference",
        "inference for its own", "自用推理占比", "自用推理", "自身推理", "自身业务推理",
        "自身业务的推理",
    ),
    "external_supply_share": (
        "external supply share", "external supply", "supplies", "supplied to", "对外供给占比",
        "对外供给",
    ),
    "margin_position": ("margin position", "利润位置"),
    "own_training": ("own training", "training its own", "自身训练", "自有训练"),
    "ai_capex": (
        "ai capex", "capex", "capital expenditure", "capital spending", "ai spending",
        "资本开支", "资本支出",
    ),
    "iaas": ("iaas", "compute rental", "算力租赁"),
    "maas": ("maas", "model as a service", "模型即服务"),
    "solutions": ("solutions", "解决方案"),
    "edge": ("edge inference", "端侧推理"),
}  # fmt: skip
# Where a tool result holds each: its keys (or an input's last part: "allocation.own_inference").
METRIC_OF_KEY = {
    "self_use_inference_share": "self_use_inference_share",
    "own_inference": "self_use_inference_share",
    "self_use_inference_usd": "self_use_inference_usd",
    "inference_self_use_ratio": "inference_self_use_ratio",
    "external_supply_share": "external_supply_share",
    "margin_position": "margin_position",
    "own_training": "own_training",
    "ai_capex": "ai_capex",
    "ai_capex_usd": "ai_capex",
    "iaas": "iaas",
    "maas": "maas",
    "solutions": "solutions",
    "edge": "edge",
    "external_iaas": "external_iaas",
    "external_maas": "external_maas",
}
INPUTS = ("own_training", "own_inference", "external_iaas", "external_maas")


def _catalogue_words() -> dict[str, str]:
    """The names our own surfaces print for each metric, layer and input (bot.text.terms), as
    the offline answer and a model copying it write them: "对外算力占比", "compute rental (IaaS)"."""
    out: dict[str, str] = {}
    for lang in ("en", "zh"):
        named = [(terms.metric(m, lang), m) for m in METRICS]
        named += [(terms.layer(x, lang), x) for x in LAYER_TERMS]
        named += [(terms.input_name(f"allocation.{x}", lang), x) for x in INPUTS]
        for name, key in named:
            word = unicodedata.normalize("NFKC", name).casefold()
            out[word] = out[word.split("(")[0].strip()] = METRIC_OF_KEY[key]
    return out


_METRIC_OF_WORD = _catalogue_words() | {w: m for m, words in METRIC_WORDS.items() for w in words}
_METRIC = re.compile(
    "|".join(
        rf"(?<![a-z]){re.escape(w)}(?![a-z])" if w.isascii() else re.escape(w)
        for w in sorted(_METRIC_OF_WORD, key=len, reverse=True)
    )
)
# A clause ends at a comma, semicolon, colon or bracket: "IaaS is 87% (…), leaving 3% for …".
_CLAUSE = re.compile(r"[,;:，；：()（）—]")
_PART = re.compile(r"[;；]")
_THRESHOLD = re.compile(r"threshold|cutoff|门槛|阈值")
_BARE = re.compile(r"\s|(?<![a-z])(?:about|around|roughly|nearly|from|to|and|up|down|by)(?![a-z])")
_BOUND = re.compile(r"[≥≤<>]\s?$")
_IF = re.compile(
    r"(?<![a-z])(?:if|would|were|scenario|hypothetical(?:ly)?|suppose|supposing|assuming|what-if"
    r"|what if)(?![a-z])|如果|假如|假设|假若|若|将|会|情景|的话"
)
# A clause that names the supposition itself ("假设腾讯的该项占比为60%") is the scenario's.
_CONDITION = re.compile(
    r"(?<![a-z])(?:if|suppose|supposing|assuming|scenario|what-if|what if)(?![a-z])"
    r"|如果|假如|假设|假若|若|情景"
)
# A clause that states what is (today, actually) is not part of the scenario around it.
_FACT = re.compile(
    r"(?<![a-z])(?:is|are|ranks|sits|stands|today|currently|now|actually|in reality)(?![a-z])"
    r"|目前|现在|实际|当前|如今|(?<![将会变成因])(?:为|是)"
)
_AHEAD_EN = re.compile(
    r"(?<![a-z])(?:more than|higher than|larger than|bigger than|greater than|ahead of|above"
    r"|outranks?|leads|leads over|edges? out|exceeds?|beats?|tops|times|twice|double|triple)"
    r"(?![a-z])"
)
_BEHIND_EN = re.compile(
    r"(?<![a-z])(?:less than|lower than|smaller than|fewer than|below|behind|trails?)(?![a-z])"
)
_AHEAD_ZH = re.compile(r"高于|多于|大于|超过|超出|领先|胜过|强于")
_BEHIND_ZH = re.compile(r"低于|少于|小于|落后|不及|不如")
_PLACED_ZH = re.compile(r"排在$")
_ABOVE_ZH = re.compile(r"(?:之上|之前|前面|前)")
_BELOW_ZH = re.compile(r"(?:之下|之后|后面|后)")
_MORE_ZH = re.compile(r"高|多|大|领先|强|靠前")
_LESS_ZH = re.compile(r"低|少|小|落后|靠后")
_TIMES_ZH = re.compile(r"的\s?(?:约|大约)?(?P<n>\d+(?:\.\d+)?|[两三四五六七八九十])\s?倍")


def clause(text: str, at: int, end: int) -> tuple[int, int]:
    starts = [m.end() for m in _CLAUSE.finditer(text, 0, at)]
    stop = _CLAUSE.search(text, end)
    return (starts[-1] if starts else 0), (stop.start() if stop else len(text))


def metric(text: str, at: int, end: int) -> tuple[str | None, bool]:
    """The metric a figure is said of: named before it in its clause ("AI capex is …"), else
    after it ("72% of its compute serves its own inference"), else the last one named before
    it in the sentence ("利润位置最高,约97%"). The second part says whether it binds firmly
    (the figure may be only that metric's): every such naming does; kept for callers."""
    lo, hi = clause(text, at, end)
    if _THRESHOLD.search(text, lo, hi) or _BOUND.search(text, max(0, at - 3), at):
        return None, False  # "above the 40% threshold", "≥ 50%": a rule's bound, not a value
    before = list(_METRIC.finditer(text, lo, at))
    after = _METRIC.search(text, end, hi)
    # Across commas, not across a semicolon: "…端侧推理层;苹果以95%排第3名" names no metric.
    stops = [m.end() for m in _PART.finditer(text, 0, lo)]
    # Only a clause that is a bare figure carries it on ("最高,约97%", "from 24% to 50%"); a
    # list's "maas 6%, edge 65%" names its own label, known to us or not.
    bare = len(_BARE.sub("", text[lo:at])) <= 3
    earlier = list(_METRIC.finditer(text, stops[-1] if stops else 0, lo)) if bare else []
    found: re.Match[str] | None
    if before and after:  # the nearer naming: "…own inference and only 14% is supplied to others"
        found = before[-1] if at - before[-1].end() <= after.start() - end else after
    else:
        found = before[-1] if before else after or (earlier[-1] if earlier else None)
    return (_METRIC_OF_WORD[found.group()], True) if found else (None, False)


def first_metric(text: str) -> str | None:
    m = _METRIC.search(text)
    return _METRIC_OF_WORD[m.group()] if m else None


def scenario(text: str, at: int, end: int) -> bool:
    """A figure in a sentence that supposes ("if", "would", "假如", "将"), in a clause that does not
    state what is ("is", "目前")."""
    if not _IF.search(text):
        return False
    lo, hi = clause(text, at, end)
    return bool(_CONDITION.search(text, lo, hi)) or not _FACT.search(text, lo, hi)


def order(text: str, a_end: int, b_at: int, b_end: int) -> bool | None:
    """Between two mentions A … B: True when the text says A is ahead of B, False when it says
    B is, None when it says neither."""
    between, after = text[a_end:b_at], text[b_end : b_end + 16]
    if "比" in between:
        more, less = _MORE_ZH.search(after), _LESS_ZH.search(after)
        if more or less:
            return bool(more and (not less or more.start() < less.start()))
    if (m := _TIMES_ZH.match(after)) and re.search(r"[是为]\s?$", between):
        n = m.group("n")
        return (float(n) if n[0].isdigit() else 2.0) >= 1
    placed = _PLACED_ZH.search(between.strip())  # "A排在B之上"
    if placed and (_ABOVE_ZH.match(after) or _BELOW_ZH.match(after)):
        return bool(_ABOVE_ZH.match(after))
    # Only words between the two names relate them ("A高于B", "A is ahead of B"): a clause
    # break in between ends the comparison ("…56% for JD.com, a 4-point lead, and Meituan").
    if _CLAUSE.search(between):
        return None
    hits = [(m.start(), True) for m in _AHEAD_EN.finditer(between)]
    hits += [(m.start(), False) for m in _BEHIND_EN.finditer(between)]
    hits += [(m.start(), True) for m in _AHEAD_ZH.finditer(between)]
    hits += [(m.start(), False) for m in _BEHIND_ZH.finditer(between)]
    return max(hits)[1] if hits else None
