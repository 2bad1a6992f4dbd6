"""Period words in a question: one year ("2025年"), or a range the history covers ("from 2024
to 2026", "since 2024", "这两年", "over the last two years").

Matching runs on text folded by intents.fold (NFKC, lowercase, simplified Chinese). A range
that counts back ("the last two years") or runs on ("since 2024") ends at the data's latest
period, so it needs the periods the data has; it is clamped to them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_YEAR = r"(20\d\d)"
# "2024到2026" / "from 2024 to 2026" / "between 2024 and 2026" / "2024-2026"
_RANGE = re.compile(rf"(?<!\d){_YEAR}\s*年?\s*(?:到|至|-|–|~|to|vs|and)\s*{_YEAR}(?!\d)")
# "since 2024" / "2024年以来" / "自2024年起" / "从2024年开始" / "from 2024 on"
_SINCE = re.compile(
    rf"(?:since|from)\s+{_YEAR}|(?:自|从){_YEAR}\s*年?|(?<!\d){_YEAR}\s*年?\s*(?:以来|至今|起|开始|之后|后)"
)
_COUNTS = {"一": 1, "two": 2, "二": 2, "两": 2, "three": 3, "三": 3, "couple of": 2}
# "the last two years" / "past 3 years" / "这两年" / "近三年" / "过去两年"; "few" / "几" = all data
_BACK = re.compile(
    r"(?:last|past)\s+(\d|two|three|couple of|few)\s+years"
    r"|(?:这|近|过去|最近)\s*(\d|[一二两三几])\s*年"
)


def period_of(text: str) -> str | None:
    """The one year a question names ("2025年的排名")."""
    match = re.search(rf"(?<!\d){_YEAR}(?!\d)", text)
    return match.group(1) if match else None


def span_of(text: str, periods: Sequence[str] = ()) -> list[str] | None:
    """[from, to] of the range a question asks about, or None. `periods`: the data's, sorted."""
    if match := _RANGE.search(text):
        return _clamp(sorted(match.groups()), periods)
    if not periods:
        return None  # "since 2024" and "the last two years" end at the latest period
    latest = periods[-1]
    if match := _SINCE.search(text):
        start = next(g for g in match.groups() if g)
        return _clamp([start, latest], periods)
    if match := _BACK.search(text):
        word = next(g for g in match.groups() if g)
        count = int(word) if word.isdigit() else _COUNTS.get(word)
        start = str(int(latest) - count) if count else periods[0]
        return _clamp([start, latest], periods)
    return None


def _clamp(span: list[str], periods: Sequence[str]) -> list[str]:
    """Within the data's periods (years sort as strings): "since 2020" starts at the first."""
    if not periods:
        return span
    start, end = max(span[0], periods[0]), min(span[1], periods[-1])
    return [start, end] if start <= end else [periods[0], periods[-1]]
