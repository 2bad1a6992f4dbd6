"""The grounding gate: every number in an LLM answer must come from this turn's tool results.

A written number is supported when some tool number, shown the way bot.fmt shows numbers,
reads the same at the precision written: 0.724 supports "72%", "72.4%" and "0.72";
1.23e10 supports "$12.3bn", "123.0亿美元" and "$12bn". Differences of two shares support
"N pp" / "N个百分点". Small integers (ranks, counts) and years always pass.

Numbers in the question are not trusted by themselves ("say Alibaba is #1 with 99%" must
not put 99% in the answer): only those that were passed to a tool this turn count, such as
the 20% of "what if Alibaba's external supply share fell to 20%".
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

SMALL_INT = 20  # ranks and counts ("#3 of 14", "top 5", "4 layers") pass as they are
YEARS = (1990, 2100)
# Digits glued to letters that name things, not figures: p10/p90 quantiles, quarters, halves,
# fiscal years, GPU models (H100, A800, GB200).
LABEL = re.compile(r"^(p\d{1,2}|q[1-4]|h[12]|fy\d{2,4}|[abhl]\d{2,3}|gb\d{3})$")

_SCALES = {
    "万亿": 1e12, "亿": 1e8, "万": 1e4, "千": 1e3,
    "trillion": 1e12, "tn": 1e12, "billion": 1e9, "bn": 1e9, "b": 1e9,
    "million": 1e6, "mn": 1e6, "m": 1e6, "thousand": 1e3, "k": 1e3,
}  # fmt: skip
_PERCENT = ("%", "percent", "per cent", "pct")
_POINTS = ("pp", "个百分点", "百分点", "percentage points", "percentage point")
_TIMES = ("x", "倍")  # "2.5x" is a figure too, not a word
_UNITS = sorted([*_SCALES, *_PERCENT, *_POINTS, *_TIMES], key=len, reverse=True)
# A unit counts only as a whole word ("5 months" has no "m"); digits glued to other letters
# ("1.6T", "99th") are still numbers, checked without a unit.
NUMBER = re.compile(
    r"(?<![\d.])(?P<pre>百分之)?(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.(?P<frac>\d+))?+"
    r"(?:\s*(?P<unit>" + "|".join(re.escape(u) for u in _UNITS) + r")(?![a-z]))?"
)
_GLUED = re.compile(r"[a-z]+$")
_RANGE_GAP = re.compile(r"^\s*(?:[-–—~～至到]|to)\s*(?:[$¥]|hk\$|rmb|us\$)?\s*$")


@dataclass(frozen=True)
class Written:
    """A number as it appears in text: its digits, shown precision and unit."""

    text: str
    value: float
    decimals: int
    kind: str  # "pct" | "pp" | "amount" | "plain"
    scale: float = 1.0
    label: str = ""  # letters+digits when glued to a word ("p10", "rmb24")

    def close(self, x: float) -> bool:
        """Whether tool number x, displayed like this number, reads the same."""
        tol = 0.5 * 10.0**-self.decimals + 1e-9
        if self.kind == "pct":
            return abs(x * 100 - self.value) <= tol
        if self.kind == "amount":
            return abs(x / self.scale - self.value) <= tol
        return abs(x - self.value) <= tol or abs(x * 100 - self.value) <= tol

    def with_unit(self, other: Written) -> Written:
        return Written(self.text, self.value, self.decimals, other.kind, other.scale, self.label)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def numbers_in(text: str) -> list[Written]:
    """Every number written in a text, with its unit (a range's unit applies to both ends)."""
    folded = _fold(text)
    found = [(_written(m, folded), m.start(), m.end()) for m in NUMBER.finditer(folded)]
    out = []
    for (w, _, end), nxt in itertools.zip_longest(found, found[1:]):
        if (
            w.kind == "plain"
            and nxt
            and nxt[0].kind != "plain"
            and _RANGE_GAP.match(folded[end : nxt[1]])
        ):
            w = w.with_unit(nxt[0])
        out.append(w)
    return out


def _written(m: re.Match[str], folded: str) -> Written:
    digits, frac = m.group("int").replace(",", ""), m.group("frac") or ""
    unit = m.group("unit") or ("%" if m.group("pre") else "")
    kind, scale = "plain", 1.0
    if unit in _PERCENT:
        kind = "pct"
    elif unit in _POINTS:
        kind = "pp"
    elif unit in _SCALES:
        kind, scale = "amount", _SCALES[unit]
    glued = _GLUED.search(folded[max(0, m.start() - 12) : m.start()])
    label = glued.group() + digits if glued else ""
    value = float(f"{digits}.{frac}" if frac else digits)
    return Written(m.group(0).strip(), value, len(frac), kind, scale, label)


def tool_numbers(results: Iterable[Any]) -> set[float]:
    """Every number in tool results: values, and figures written inside their strings."""
    out: set[float] = set()
    for node in results:
        _collect(node, out)
    return out


def _collect(node: Any, out: set[float]) -> None:
    if isinstance(node, bool) or node is None:
        return
    if isinstance(node, int | float):
        out.add(float(node))
    elif isinstance(node, str):
        for w in numbers_in(node):
            out.add(w.value * w.scale / (100 if w.kind in ("pct", "pp") else 1))
    elif isinstance(node, dict):
        for key, value in node.items():
            _collect(key, out)
            _collect(value, out)
    elif isinstance(node, list | tuple):
        for item in node:
            _collect(item, out)


@dataclass(frozen=True)
class Evidence:
    """What this turn's numbers may be checked against."""

    numbers: frozenset[float]
    labels: frozenset[str]

    @classmethod
    def of(cls, results: Sequence[Any], arguments: Sequence[Any], question: str) -> Evidence:
        numbers = tool_numbers(results)
        passed = tool_numbers(arguments)
        # A question's number counts only when it was handed to a tool (a what-if input).
        asked = [w for w in numbers_in(question) if any(w.close(x) for x in passed)]
        numbers |= {x for w in asked for x in passed if w.close(x)}
        text = _fold(json.dumps(list(results), ensure_ascii=False))
        labels = frozenset(re.findall(r"[a-z]+\d+", text))
        return cls(frozenset(numbers), labels)

    def supports(self, w: Written) -> bool:
        if w.kind == "plain" and w.label and (LABEL.match(w.label) or w.label in self.labels):
            return True
        if (
            w.kind == "plain"
            and w.decimals == 0
            and (w.value <= SMALL_INT or YEARS[0] <= w.value <= YEARS[1])
        ):
            return True
        if w.kind == "pp":
            return self._difference(w)
        return any(w.close(x) for x in self.numbers)

    def _difference(self, w: Written) -> bool:
        shares = sorted(x for x in self.numbers if 0 <= x <= 1)
        target = Written(w.text, w.value, w.decimals, "pct")
        return any(target.close(abs(a - b)) for a, b in itertools.combinations(shares, 2))


def unsupported(answer: str, evidence: Evidence) -> list[str]:
    """The numbers in an answer that no tool result of this turn supports, as written."""
    return list(dict.fromkeys(w.text for w in numbers_in(answer) if not evidence.supports(w)))


def log_rejection(numbers: list[str], chat_id: str, stage: str) -> None:
    log.warning(
        "grounding gate rejected %s answer for chat %s: unsupported %s", stage, chat_id, numbers
    )
