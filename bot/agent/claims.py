"""An answer read as claims: each figure with the company (or pair) it is written about.

A claim is one figure — a share, amount, rank, count, gap, ratio, year or archetype — and its
subject: the company named nearest before it in the same sentence (a sentence that names none
speaks of the previous sentence's companies: "It ranks #4"). The grounding gate checks each
claim against that subject's tool values only.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from bot.agent import clauses

DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2, "〇": 0}
_ORDINAL_WORDS = [
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
    "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
    "eighteenth", "nineteenth", "twentieth", "twenty-first", "twenty-second", "twenty-third",
    "twenty-fourth", "twenty-fifth", "twenty-sixth", "twenty-seventh", "twenty-eighth",
]  # fmt: skip
ORDINALS = {w: i for i, w in enumerate(_ORDINAL_WORDS, start=1)}
FRACTIONS = {
    "一半": 0.5, "半数": 0.5, "half": 0.5, "三分之一": 1 / 3, "a third": 1 / 3, "one third": 1 / 3,
    "三分之二": 2 / 3, "two thirds": 2 / 3, "two-thirds": 2 / 3, "四分之一": 0.25, "a quarter": 0.25,
    "one quarter": 0.25, "四分之三": 0.75, "three quarters": 0.75,
}  # fmt: skip
RATIO_WORDS = {"twice": 2.0, "double": 2.0, "triple": 3.0, "三倍": 3.0, "两倍": 2.0, "翻倍": 2.0}
ARCHETYPE_WORDS = {
    "supplier": ("supplier", "卖水者", "卖水的", "卖铲"),
    "dual": ("dual role", "dual-role", "双重角色", "卖水与用水"),
    "self_user": ("self-user", "self user", "内驱型", "用水者", "用水的"),
    "edge_builder": ("edge builder", "edge ecosystem builder", "edge-builder", "生态构建者"),
    "unclassified": ("unclassified", "未归类"),
}
_ARCHETYPE_OF = {w: a for a, words in ARCHETYPE_WORDS.items() for w in words}
_ARCHETYPE = re.compile(
    "|".join(re.escape(w) for w in sorted(_ARCHETYPE_OF, key=len, reverse=True))
)
HEDGES = re.compile(
    r"(about|around|roughly|approximately|nearly|almost|close to|some|~|约|大约|近|接近|将近|左右|大概|逾|超过)\W{0,2}$"
)
NEGATION = re.compile(
    r"(not|n't|rather than|instead of|than|不是|并非|而非|而不是|非)\W{0,3}(?:an?\W|the\W)?$"
)
_CN = "零〇一二两三四五六七八九十"
# An ordinal is a rank only after words that place something ("comes in fourth"), not in
# "GPUs go to internal use first".
_RANK_VERB = re.compile(
    r"(?<![a-z])(?:ranks?|ranked|in|is|was|at|to|from|sits|placed|place|remains|stays|be|and|the)\s+$"
)
_SCALE = {"万亿": 1e12, "亿": 1e8, "万": 1e4, "trillion": 1e12, "tn": 1e12, "billion": 1e9,
          "bn": 1e9, "b": 1e9, "million": 1e6, "mn": 1e6, "m": 1e6}  # fmt: skip
_NUM = r"(?P<n>\d+(?:,\d{3})*(?:\.\d+)?)"
_CN_NUM = rf"(?P<c>[{_CN}]{{1,4}})"
_USD = r"(?:\$|us\$|usd\s?)"
_CUR = r"(?:\$|us\$|usd\s?|rmb\s?|cny\s?|¥|hk\$)"
PATTERNS: list[tuple[str, str]] = [
    ("date", r"\d{4}-\d{2}(?:-\d{2})?|(?:first|second|1st|2nd) (?:half|quarter)|[上下]半年"),
    ("item", r"(?:^\s*|(?<=[:,、])\s?)(?P<n>\d{1,2})\.\s(?=\D)"),
    ("rank", rf"(?:#|no\.\s?|number\s){_NUM}"),
    ("rank", rf"第\s?(?:{_NUM}|{_CN_NUM})\s?(?:名|位)?"),
    ("rank", rf"(?:top|前)\s?(?:{_NUM}|{_CN_NUM})(?:名|强)?"),
    ("rank", r"(?<![a-z])(?P<o>" + "|".join(sorted(ORDINALS, key=len, reverse=True)) + r")(?![a-z])"),
    ("rank", r"(?<![\w.])(?P<n>\d{1,2})(?:st|nd|rd|th)(?![a-z])"),
    ("count", rf"{_NUM}\s?(?:companies|家公司|家)"),
    ("count", rf"(?:(?<=of )|(?<=among the )){_NUM}(?![\d.%]|\s?(?:bn|billion|million|mn|tn|trillion|%|percent|points?|pp|亿|万|美元|元)|th|st|nd|rd)"),
    ("ratio", rf"(?:{_NUM}|{_CN_NUM})\s?(?:times|x(?![a-z])|×|倍)"),
    ("ratio", r"(?P<w>" + "|".join(RATIO_WORDS) + r")"),
    ("ratio", rf"(?:(?<=ratio of )|(?<=ratio of about )|(?<=ratio of roughly )){_NUM}"),
    ("pp", rf"{_NUM}\s?(?:percentage points?|pp(?![a-z])|个百分点|百分点|-?points?(?![a-z]))"),
    ("pct", rf"百分之(?:{_NUM}|{_CN_NUM})"),
    ("pct", rf"{_NUM}\s?(?:%|percent|per cent)"),
    ("cheng", rf"{_CN_NUM}成(?P<c2>[{_CN}])?"),
    ("frac", r"(?P<f>" + "|".join(sorted(FRACTIONS, key=len, reverse=True)) + r")"),
    ("amount", rf"(?P<cur>{_CUR})?{_NUM}\s?(?P<s>万亿|亿|万|trillion|tn|billion|bn|b|million|mn|m)(?![a-z])(?P<cur2>\s?(?:美元|元|人民币|usd|rmb|yuan|dollars))?"),
    ("year", r"(?<![\d.])(?P<n>(?:19|20)\d\d)(?![\d.%])"),
    ("plain", rf"(?<![\w.]){_NUM}(?![\d%])"),
]  # fmt: skip
FIGURE = re.compile(
    "|".join(f"(?P<k{i}>{p.replace('(?P<', f'(?P<g{i}_')})" for i, (_, p) in enumerate(PATTERNS))
)
# A full stop ends a sentence, except after a list's number ("Top: 1. Salesforce, 2. PDD").
_SENTENCE = re.compile(
    r"[。!?！？\n]|(?<![:,、] \d)(?<![:,、] \d\d)(?<![:,、]\d)(?<![:,、]\d\d)(?<!^\d)(?<!^\d\d)"
    r"(?<!no)\.(?=\s|$)",
    re.M,
)
_RANGE_BEFORE = re.compile(r"\d[^\s\d]{0,6}\s?(?:[-–—~～至到]|to)\s?(?:rmb|us\$|[$¥])?\s?$")
# 至/到 after 升/降 ("升至") is a change, not a range.
_RANGE_AFTER = re.compile(
    r"[^\s\d]{0,6}?\s?(?:[-–—~～]|(?<![升降增减提跌涨])[至到]|to)\s?(?:rmb|us\$|[$¥])?\s?\d"
)
_PROB = re.compile(r"probab|likel|chance|odds|confidence|robust|p\(|概率|把握|可能|稳健")
_PROB_AFTER = re.compile(r"\s?(?:chance|probability|likelihood|odds)|的?(?:把握|概率|可能性)")
# "$55bn for Oracle", "64% at Apple", "45% (Tencent)": a figure just before a name is its.
_FOR_NAME = re.compile(r"\s?(?:for|at|\()\s?")
_DIFF_AFTER = re.compile(r"\s?(?:more|less|fewer|higher|lower)(?![a-z])")
_DIFF_BEFORE = re.compile(r"(?:多|少|高出|多出|相差|差)(?:约|大约|了)?\s?$")
_PRONOUN = re.compile(r"(?<![a-z])(?:it|its|it's)(?![a-z])|它|其")
_VERSUS = re.compile(r"\s?(?:against|versus|vs\.?|to)\s(?=[\d$¥]|rmb)|\s?对\s?(?=\d)")
_LABEL = re.compile(r"(?:[a-z]\d*|[a-z]-)$")  # p10, h100, gpt-4o


@dataclass(frozen=True)
class Figure:
    """A figure as written: its kind, value (shares as fractions, amounts in units) and slack."""

    text: str
    kind: str  # rank | count | ratio | pp | pct | amount | year | plain | archetype
    value: float
    tolerance: float
    currency: str = ""  # "USD", "CNY" or "" when not said
    word: str = ""  # the archetype id, for archetype claims
    ranged: bool = False  # an end of a range ("66–76%"): may be a p10/p90 or low/high
    prob: bool = False  # said as a probability ("with probability 93%", "的概率为93%")
    diff: bool = False  # said as a difference ("$86bn more", "多约860亿美元"), not a level


@dataclass(frozen=True)
class Claim:
    figure: Figure
    subject: str  # a company id, "" when no company can be told
    others: tuple[str, ...]  # the other companies of the sentence (pairs: gaps, ratios, p)
    carried: bool = False  # the subject was named in the sentence before, not in this one
    period: float | None = None  # the year the figure is said of ("72% in 2026", "2025年的70%")
    metric: str | None = None  # the metric or input named with it (bot.agent.clauses)
    firm: bool = False  # the metric was named before the figure: only its values back it
    scenario: bool = False  # said as a scenario ("would", "假如"): a what-if's figures back it
    order: tuple[str, str] | None = None  # (ahead, behind) when its sentence compares the two
    move: str = ""  # no year said: "from" (the first period's), "to" or "now" (the last's)
    becomes: bool = False  # an archetype a scenario turns the company into ("would become …")
    years: tuple[float, ...] = ()  # the years its sentence names (a change is between them)


def cn_number(text: str) -> int:
    """一 → 1, 十二 → 12, 二十 → 20, 七十二 → 72."""
    if "十" not in text:
        return int("".join(str(DIGITS[c]) for c in text))
    tens, _, ones = text.partition("十")
    return (DIGITS[tens] if tens else 1) * 10 + (DIGITS[ones] if ones else 0)


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


class Reader:
    """Finds company mentions and figures in answers; built once per universe."""

    def __init__(self, names: Iterable[tuple[str, str]]) -> None:
        # A name of digits only (NetEase's "9999", an HK code) is read as a figure, never as a
        # mention: masked as a name, "9999亿美元" would be no claim at all.
        named = {(fold(n), cid) for n, cid in names if n.strip() and not fold(n).isdigit()}
        pairs = sorted(named, key=lambda p: -len(p[0]))
        self._ids = dict(pairs)
        self._mention = re.compile(
            "|".join(
                re.escape(n) if not n.isascii() else rf"(?<![a-z0-9]){re.escape(n)}(?![a-z0-9])"
                for n, _ in pairs
            )
            or "(?!)"  # no names: nothing is a mention
        )

    def claims(self, answer: str) -> list[Claim]:
        out: list[Claim] = []
        previous: list[tuple[int, str]] = []
        for sentence in _sentences(fold(answer)):
            spans = [
                (m.start(), m.end(), self._ids[m.group()]) for m in self._mention.finditer(sentence)
            ]
            mentions = [(at, cid) for at, _, cid in spans]
            masked = self._mention.sub(lambda m: " " * len(m.group()), sentence)
            recent = list(dict.fromkeys(cid for _, cid in reversed(previous)))[:2][::-1]
            carried = mentions or [(-1, cid) for cid in recent]
            found = figures(masked)
            years = [(at, end, f.value) for at, end, f in found if f.kind == "year"]
            orders = _orders(sentence, masked, spans)
            paired = False  # "A leads B, 85% to 78%": two companies' figures, not a range
            for at, end, figure in found:
                versus = sum(p < at for p, _ in mentions) >= 2 and bool(_VERSUS.match(masked, end))
                if versus or paired:
                    figure = dataclasses.replace(figure, ranged=False)
                paired = versus
                claim = _bind(figure, at, end, carried, not mentions, masked)
                named = _FOR_NAME.fullmatch(
                    masked[end : next((p for p, _ in mentions if p >= end), end)]
                )
                if mentions and previous and _PRONOUN.search(masked) and not named:
                    claim = _with_antecedent(claim, at, mentions, previous)
                out.append(_placed(claim, masked, at, end, years, orders))
            out += orders
            previous = mentions
        return out


def _with_antecedent(
    claim: Claim, at: int, mentions: list[tuple[int, str]], previous: list[tuple[int, str]]
) -> Claim:
    """A sentence that says "it" also speaks of the company before: a figure ahead of any name
    is that company's, and it may be a party to the sentence's other figures."""
    antecedent = previous[-1][1]
    if all(pos > at for pos, _ in mentions) and claim.figure.kind != "rank":
        others = (*claim.others, claim.subject)
        return dataclasses.replace(claim, subject=antecedent, others=_but(others, antecedent))
    return dataclasses.replace(claim, others=_but((*claim.others, antecedent), claim.subject))


def _but(ids: tuple[str, ...], subject: str) -> tuple[str, ...]:
    return tuple(c for c in dict.fromkeys(ids) if c != subject)


def _placed(
    claim: Claim,
    text: str,
    at: int,
    end: int,
    years: list[tuple[int, int, float]],
    orders: list[Claim],
) -> Claim:
    """A claim with what its sentence says around it: period, metric, scenario, order."""
    period = _period(text, at, end, years) if claim.figure.kind != "year" else None
    metric, firm = clauses.metric(text, at, end)
    pair = {claim.subject, *claim.others}
    order = next((o.order for o in orders if o.order and set(o.order) <= pair), None)
    scenario = clauses.scenario(text, at, end)
    lead = text[max(0, at - 14) : at]
    move = "" if period is not None else next((m for m, r in _MOVES.items() if r.search(lead)), "")
    becomes = claim.figure.kind == "archetype" and bool(_BECOMES.search(text[max(0, at - 24) : at]))
    return dataclasses.replace(
        claim,
        period=period,
        metric=metric,
        firm=firm,
        scenario=scenario,
        order=order,
        move=move,
        becomes=becomes,
        years=tuple(sorted({y for _, _, y in years})),
    )


def _orders(sentence: str, text: str, spans: list[tuple[int, int, str]]) -> list[Claim]:
    """Each "A is ahead of B" the sentence says of two companies named one after the other."""
    out = []
    for (a_at, a_end, a), (b_at, b_end, b) in itertools.pairwise(spans):
        ahead = clauses.order(text, a_end, b_at, b_end) if a != b else None
        if ahead is None:
            continue
        pair = (a, b) if ahead else (b, a)
        figure = Figure(sentence[a_at:b_end].strip(), "order", 0, 0, word="|".join(pair))
        claim = Claim(
            figure,
            pair[0],
            (pair[1],),
            order=pair,
            metric=clauses.first_metric(text),
            scenario=clauses.scenario(text, a_at, b_end),
        )
        out.append(claim)
    return out


def _bind(
    figure: Figure, at: int, end: int, mentions: list[tuple[int, str]], carried: bool, text: str
) -> Claim:
    """The company named nearest before the figure — or right after it ("12. 腾讯")."""
    # "2. PDD", "#2 PDD Holdings": a rank written just before a name is that company's.
    heads = figure.kind == "rank" and not figure.text[-1:].isalpha()
    after = [
        cid
        for pos, cid in mentions
        if heads and end <= pos <= end + 3 and not text[end:pos].strip()
    ]
    after += [cid for pos, cid in mentions if pos >= end and _FOR_NAME.fullmatch(text[end:pos])]
    before = [cid for pos, cid in mentions if pos < at]
    if len(before) >= 2 and _VERSUS.match(text, end):
        before = before[:-1]  # "A leads B: 78% against 56%": the first figure is A's
    subject = (after or before[-1:] or [cid for _, cid in mentions[:1]] or [""])[0]
    others = tuple(dict.fromkeys(c for _, c in mentions if c != subject))
    return Claim(figure, subject, others, carried)


def _period(text: str, at: int, end: int, years: list[tuple[int, int, float]]) -> float | None:
    """The year right after the figure ("72% in 2026"), else the last one before it."""
    for start, _, year in years:
        if start >= end and _YEAR_AFTER.fullmatch(text[end:start]):
            return year
    before = [(stop, year) for _, stop, year in years if stop <= at]
    if before and not _MOVES_ON.search(text[before[-1][0] : at]):
        return before[-1][1]
    # "rose from 70% in 2025 to 72% in 2026 …, its rank went from #3 to #4": a move's start
    # is of the sentence's first year, its end of the last.
    lead = text[max(0, at - 12) : at]
    all_years = sorted(year for _, _, year in years)
    if len(all_years) >= 2 and _FROM.search(lead):
        return all_years[0]
    if len(all_years) >= 2 and _TO.search(lead):
        return all_years[-1]
    return None


_FROM = re.compile(r"(?:(?<![a-z])from|从)\s?$")
_TO = re.compile(r"(?:(?<![a-z])to|变为|升至|降至|→)\s?$")


_MOVES = {
    "from": _FROM,
    "to": _TO,
    "now": re.compile(r"(?:现在|目前|如今|now|currently|today)\W{0,3}(?:排|ranks?|is|at|为)?\s*$"),
}
_BECOMES = re.compile(
    r"(?:become|becomes|becoming|turn into|turns into|count as|counts as|(?<![a-z])to|变为|变成|"
    r"成为|转为)\W{0,2}(?:an?\s|the\s)?(?:pure\s)?$"
)
_YEAR_AFTER = re.compile(r"\s*(?:in|for|\()?\s*")
# "Since 2024 it moved from third to fourth": what comes after "to" is not of 2024.
# A year before a figure is its period only within the same clause ("2025年的70%").
_MOVES_ON = re.compile(
    r"(?<![a-z])(?:to|now|then)(?![a-z])|→|至|变为|现在|如今|目前|[,;，；]|.{31}"
)


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text) if s.strip()]


def figures(text: str) -> list[tuple[int, int, Figure]]:
    """Every figure of one (case-folded) sentence, with where it starts and ends."""
    out = []
    for m in FIGURE.finditer(text):
        i = _index(m)
        before = text[max(0, m.start() - 14) : m.start()]
        figure = _figure(PATTERNS[i][0], m, str(i), before)
        if figure is not None:
            ranged = bool(_RANGE_BEFORE.search(before) or _RANGE_AFTER.match(text, m.end()))
            prob = bool(
                _PROB.search(text[max(0, m.start() - 100) : m.start()])
                or _PROB_AFTER.match(text, m.end())
            )
            diff = bool(_DIFF_AFTER.match(text, m.end()) or _DIFF_BEFORE.search(before))
            figure = dataclasses.replace(figure, ranged=ranged, prob=prob, diff=diff)
            out.append((m.start(), m.end(), figure))
    for m in _ARCHETYPE.finditer(text):
        if not NEGATION.search(text[max(0, m.start() - 14) : m.start()]):
            figure = Figure(m.group(), "archetype", 0, 0, word=_ARCHETYPE_OF[m.group()])
            out.append((m.start(), m.end(), figure))
    return sorted(out, key=lambda f: f[0])


def _index(m: re.Match[str]) -> int:
    return next(int(k[1:]) for k, v in m.groupdict().items() if k.startswith("k") and v is not None)


def _group(m: re.Match[str], i: str, name: str) -> str | None:
    return m.groupdict().get(f"g{i}_{name}")


def _figure(kind: str, m: re.Match[str], i: str, before: str) -> Figure | None:
    text = m.group()
    hedged = bool(HEDGES.search(before))
    n, c = _group(m, i, "n"), _group(m, i, "c")
    if kind == "date" or (kind == "plain" and _LABEL.search(before)):
        return None  # p10, q3, h100: labels; 2025-03-31: a date, not a figure
    if n is not None:
        value = float(n.replace(",", ""))
        decimals = len(n.partition(".")[2])
    elif c is not None:
        value, decimals = float(cn_number(c)), 0
    else:
        value, decimals = 0.0, 0
    tol = 0.5 * 10.0**-decimals
    match kind:
        case "rank" if (o := _group(m, i, "o")) is not None:
            return Figure(text, "rank", ORDINALS[o], 0) if _RANK_VERB.search(before) else None
        case "rank" if text.startswith(("top", "前")):
            return Figure(text, "top", value, 0)
        case "rank" | "count":
            return Figure(text, kind, value, 0)
        case "item":  # "2. PDD Holdings": a list's number is the rank of what follows
            return Figure(text.strip(), "rank", value, 0)
        case "ratio" if (w := _group(m, i, "w")) is not None:
            return Figure(text, "ratio", RATIO_WORDS[w], 0.25)
        case "ratio":
            return Figure(text, "ratio", value, max(tol, 0.25 if c else 0, 0.1 if hedged else 0))
        case "pp":
            return Figure(text, "pp", value / 100, _slack(value, decimals, hedged) / 100)
        case "pct":
            return Figure(text, "pct", value / 100, _slack(value, decimals, hedged) / 100)
        case "cheng":
            c2 = _group(m, i, "c2")
            tenths = value * 10 + (DIGITS.get(c2, 0) if c2 else 0)
            return Figure(text, "pct", tenths / 100, 0.05 if not c2 else 0.01)
        case "frac":
            return Figure(text, "pct", FRACTIONS[_group(m, i, "f") or ""], 0.04)
        case "amount":
            return _amount(m, i, text, value, tol, hedged)
        case "year":
            return Figure(text, "year", value, 0)
    return Figure(text, "plain", value, tol)


def _slack(value: float, decimals: int, hedged: bool) -> float:
    """How far a written figure may be from the value: its precision, or its rounding if hedged
    ("about 70%" covers 65–75%, "about 75%" 72.5–77.5%, "about 72%" 71–73%)."""
    if not hedged or decimals:
        return 0.5 * 10.0**-decimals + 1e-9
    return 5.0 if value % 10 == 0 else 2.5 if value % 5 == 0 else 1.0


def _amount(m: re.Match[str], i: str, text: str, value: float, tol: float, hedged: bool) -> Figure:
    scale = _SCALE[_group(m, i, "s") or ""]
    cur = (_group(m, i, "cur") or "") + (_group(m, i, "cur2") or "")
    currency = "USD" if re.search(r"\$|usd|美元|dollar", cur) else "CNY" if cur.strip() else ""
    slack = max(tol, 0.05 * value) if hedged else tol
    return Figure(text, "amount", value * scale, slack * scale + 1e-6, currency)


@functools.lru_cache(maxsize=8)
def reader_for(names: tuple[tuple[str, str], ...]) -> Reader:
    return Reader(names)
