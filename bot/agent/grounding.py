"""The grounding gate: every claim of an LLM answer must be a tool value of its subject.

The answer is read as claims (bot.agent.claims): a figure bound to the company it is written
about. Tool results are read the same way: every number under a dict with a "company" key
belongs to that company, under a dict with "a"/"b" to that pair. A claim is supported only by
its subject's values, or — for gaps, ratios and probabilities — by the figures code derives
for a pair of companies named in the same sentence (difference and ratio of their values of
the same key) or for one company across periods or a what-if (before vs after).

Ranks and counts are figures like any other; archetypes must be the subject's; years must be
periods in the data or in the question. Where no company can be told, the figure is checked
against every number of the turn (the previous rule), and counted in `Verdict.unbound`.
Numbers of the question count only when they were passed to a tool (a what-if input).
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from bot.agent.claims import Claim, Figure, reader_for
from tools.universe import Universe

log = logging.getLogger(__name__)

GLOBAL = ""
# Ends of a range and model outputs: they support a figure written as a range end only, and
# never feed a derived gap or ratio ("$141bn vs $55bn" is not p90 minus p10).
RANGE_KEYS = frozenset({"p10", "p90", "low", "high", "rank_range"})
# Probabilities of an order support only a figure said as a probability, and only those do.
PROB_KEYS = frozenset({"p_above_next", "p_a_above_b", "p", "passed"})
NOT_DERIVED = RANGE_KEYS | PROB_KEYS | {"rank", "of", "total", "text", "asked"}
SHARE_KEYS = frozenset({"unit", "currency", "capex_currency"})
ID_KEYS = frozenset(
    {
        "period",
        "periods",
        "old_period",
        "new_period",
        "company",
        "a",
        "b",
        "sources",
        "id",
        "name",
        "kind",
        "url",
        "archetype",
        "tags",
    }
)
_MAY_HOLD_FIGURES = re.compile(r"[\d一二三四五六七八九十两半]|half|third|quarter|twice|double")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")


class Rejected(BaseModel):
    """A claim the gate refused: as written, whom it was about, and why."""

    text: str
    subject: str
    reason: str  # "no_value" | "wrong_rank" | "wrong_archetype" | "unknown_year"
    expected: str | None = None  # the subject's value as the tools know it, when they do


@dataclass
class Values:
    """One subject's numbers, keyed by where they sat (key name), with the currency if said."""

    numbers: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    amounts: list[tuple[float, str, str]] = field(default_factory=list)
    ranks: set[float] = field(default_factory=set)
    archetypes: set[str] = field(default_factory=set)
    years: set[float] = field(default_factory=set)  # years written in its notes and sources
    by_period: dict[float, Values] = field(default_factory=dict)  # the same, per data period

    def at(self, period: float | None) -> Values:
        """Only the values of one period, when the subject has any for it."""
        dated = self.by_period.get(period) if period is not None else None
        if dated is None:
            return self
        # Figures written in notes and titles carry no period of their own: they always count.
        numbers = defaultdict(list, dated.numbers, text=self.numbers.get("text", []))
        amounts = dated.amounts + [a for a in self.amounts if a[2] == "text"]
        return Values(numbers, amounts, dated.ranks, self.archetypes, self.years)

    def flat(self, ranged: bool = True, prob: bool | None = None) -> Iterable[float]:
        for key, xs in self.numbers.items():
            if (ranged or key not in RANGE_KEYS) and (prob is None or prob == (key in PROB_KEYS)):
                yield from xs


@dataclass
class Evidence:
    """This turn's tool values, by subject."""

    subjects: dict[str, Values]
    periods: set[float]
    names: tuple[tuple[str, str], ...]

    @functools.cached_property
    def ids(self) -> frozenset[str]:
        return frozenset(cid for _, cid in self.names)

    @classmethod
    def of(
        cls,
        results: Sequence[Any],
        arguments: Sequence[Any],
        question: str,
        names: Iterable[tuple[str, str]] = (),
    ) -> Evidence:
        ev = cls(defaultdict(Values), set(), tuple(names))
        for result in results:
            ev._walk(result, GLOBAL, "", "", None)
        passed = Values()
        for args in arguments:
            _numbers_of(args, passed)
        for value in passed.flat():  # what-if inputs hold for the company asked about too
            ev.subjects[GLOBAL].numbers["asked"].append(value)
        ev.periods |= {float(y) for y in _YEAR.findall(question)}
        return ev

    def _walk(self, node: Any, subject: str, key: str, unit: str, period: float | None) -> None:
        if isinstance(node, dict):
            period = _period_of(node.get("period"), period)
            if isinstance(node.get("company"), str):
                subject = node["company"]
            elif isinstance(node.get("a"), str) and isinstance(node.get("b"), str):
                subject = f"{node['a']}|{node['b']}"
            unit = next((str(node[k]) for k in SHARE_KEYS if isinstance(node.get(k), str)), unit)
            for k, value in node.items():
                # {"netease": 0.484}: a value keyed by a company is that company's
                owner, name = (k, key) if k in self.ids else (subject, k)
                # A move's old_rank/new_value belong to its old_period/new_period.
                side = _period_of(node.get(f"{k[:3]}_period"), period) if k[3:4] == "_" else period
                self._walk(value, owner, name, unit, side)
        elif isinstance(node, list):
            for item in node:
                self._walk(item, subject, key, unit, period)
        elif isinstance(node, bool) or node is None:
            return
        elif isinstance(node, int | float):
            self._number(float(node), self.subjects[subject], key, unit)
            if period is not None:
                dated = self.subjects[subject].by_period.setdefault(period, Values())
                self._number(float(node), dated, key, unit)
        elif isinstance(node, str):
            self._string(node, subject, key)

    @staticmethod
    def _number(x: float, values: Values, key: str, unit: str) -> None:
        values.numbers[key].append(x)
        if key.endswith("rank") or key in ("of", "total"):
            values.ranks.add(x)
        if abs(x) >= 1e5:
            currency = "USD" if key.endswith("usd") or unit.casefold() == "usd" else unit.upper()
            values.amounts.append((x, currency, key))

    def _string(self, text: str, subject: str, key: str) -> None:
        values = self.subjects[subject]
        if "archetype" in key or key == "tags":
            values.archetypes.add(text)
        if "period" in key and text.isdigit():
            self.periods.add(float(text))
        if key in ID_KEYS or not _MAY_HOLD_FIGURES.search(text):
            return  # ids, names and words: reading them as claims costs time and finds nothing
        # Figures inside notes ("RPO $627bn") are the subject's, and of whom the note names.
        for claim in reader_for(self.names).claims(text):
            for owner in {subject, claim.subject}:
                self._text_figure(claim.figure, self.subjects[owner])

    def _text_figure(self, f: Figure, values: Values) -> None:
        if f.kind == "year":
            values.years.add(f.value)
        elif f.kind == "rank":  # "Hunyuan ranked #1 on OpenRouter"
            values.ranks.add(f.value)
        elif f.kind in ("pct", "amount", "plain", "ratio", "pp"):
            values.numbers["text"].append(f.value)
            if f.kind == "amount":
                values.amounts.append((f.value, f.currency, "text"))

    def of_subject(self, cid: str) -> Values:
        return self.subjects.get(cid) or Values()


def _period_of(value: Any, default: float | None) -> float | None:
    return float(value) if isinstance(value, str) and value.isdigit() else default


def _numbers_of(node: Any, into: Values) -> None:
    if isinstance(node, dict):
        for value in node.values():
            _numbers_of(value, into)
    elif isinstance(node, list):
        for item in node:
            _numbers_of(item, into)
    elif isinstance(node, int | float) and not isinstance(node, bool):
        into.numbers["asked"].append(float(node))


@dataclass
class Verdict:
    rejected: list[Rejected]
    claims: int
    unbound: int  # claims with no company to bind to: checked by the turn-wide rule


def check(answer: str, evidence: Evidence) -> Verdict:
    """Every claim of the answer that its subject's tool values do not support."""
    claims = reader_for(evidence.names).claims(answer)
    rejected, unbound = [], 0
    for claim in claims:
        if not claim.subject or claim.carried:
            unbound += 1
        reason = _unsupported(claim, evidence)
        if reason:
            rejected.append(
                Rejected(
                    text=claim.figure.text,
                    subject=claim.subject,
                    reason=reason,
                    expected=_expected(claim, evidence),
                )
            )
    return Verdict(unique(rejected), len(claims), unbound)


def unique(rejected: list[Rejected]) -> list[Rejected]:
    seen: dict[tuple[str, str], Rejected] = {}
    for r in rejected:
        seen.setdefault((r.text, r.subject), r)
    return list(seen.values())


def unsupported(answer: str, evidence: Evidence) -> list[str]:
    """The claims no tool value of their subject supports, as written."""
    return [r.text for r in check(answer, evidence).rejected]


def _unsupported(claim: Claim, ev: Evidence) -> str | None:
    f = claim.figure
    own = ev.of_subject(claim.subject) if claim.subject else _everything(ev)
    if f.kind in ("pct", "rank", "amount", "plain"):
        own = own.at(claim.period)
    if f.kind == "year":
        # Years written in the company's notes and source titles ("~1/3 in 2023") may be quoted.
        return None if f.value in ev.periods | own.years else "unknown_year"
    reason = _against(claim, own, ev)
    if reason and claim.carried and f.kind not in ("archetype", "rank"):
        # "It" may not be the company of the sentence before: such claims fall back to the
        # turn-wide rule, like claims with no company at all.
        return _against(Claim(f, "", ()), _everything(ev), ev)
    return reason


def _against(claim: Claim, own: Values, ev: Evidence) -> str | None:
    f = claim.figure
    if f.kind == "archetype":
        if not claim.subject:
            return None  # "suppliers ride the cycle": a word, not a claim about anyone
        return None if f.word in own.archetypes else "wrong_archetype"
    if f.kind == "rank":
        return None if f.value in own.ranks else "wrong_rank"
    if f.kind == "top":
        ranks = [r for r in own.ranks if r <= 50] or [0]
        fits = min(ranks) <= f.value <= max(ev.of_subject(GLOBAL).ranks | own.ranks | {f.value})
        return None if fits or not claim.subject else "wrong_rank"
    if f.kind == "count":
        counts = _everything(ev).ranks | set(ev.of_subject(GLOBAL).flat())
        return None if f.value in counts or f.value <= 4 else "no_value"
    if _matches(f, own) or _matches(f, ev.of_subject(GLOBAL), passed_only=bool(claim.subject)):
        return None
    if f.kind in ("pp", "ratio", "pct", "amount", "plain") and _derived(f, claim, ev):
        return None
    if f.kind == "pp" and not claim.subject and _any_difference(f, own):
        return None
    return "no_value"


def _everything(ev: Evidence) -> Values:
    every = Values()
    for values in ev.subjects.values():
        for k, xs in values.numbers.items():
            every.numbers[k] += xs
        every.amounts += values.amounts
        every.ranks |= values.ranks
        every.archetypes |= values.archetypes
        every.years |= values.years
    return every


def _matches(f: Figure, values: Values, passed_only: bool = False) -> bool:
    prob = f.prob if f.kind == "pct" else None
    numbers = values.numbers.get("asked", []) if passed_only else list(values.flat(f.ranged, prob))
    if f.kind == "amount":
        amounts = [(x, "", "") for x in numbers] if passed_only else values.amounts
        return any(
            abs(x - f.value) <= f.tolerance and (not f.currency or not cur or cur == f.currency)
            for x, cur, key in amounts
            if f.ranged or key not in RANGE_KEYS
        )
    if f.kind == "pp":  # points are a difference: never a share itself ("5 pp" ≠ a 5% layer)
        diffs = [x for k in ("gap", "change", "text", "asked") for x in values.numbers.get(k, [])]
        return any(abs(x - f.value) <= f.tolerance for x in diffs if -1 <= x <= 1)
    if f.kind == "pct":
        return any(abs(x - f.value) <= f.tolerance for x in numbers if -1 <= x <= 1 or f.value > 1)
    if f.kind == "ratio":
        return any(abs(x - f.value) <= f.tolerance for x in numbers)
    return any(
        abs(x - f.value) <= f.tolerance or abs(x * 100 - f.value) <= f.tolerance for x in numbers
    )


def _derived(f: Figure, claim: Claim, ev: Evidence) -> bool:
    """Gaps and ratios of a pair named in the sentence; changes of one company's values."""
    if not claim.subject:
        return False
    subjects = [claim.subject, *claim.others]
    for a, b in itertools.combinations(subjects, 2):
        for pair in (f"{a}|{b}", f"{b}|{a}"):
            if _matches(f, ev.of_subject(pair)):
                return True
        if _pair_derived(f, ev.of_subject(a), ev.of_subject(b)):
            return True
    return _change(f, ev.of_subject(claim.subject))


def _pair_derived(f: Figure, a: Values, b: Values) -> bool:
    for key in a.numbers.keys() & b.numbers.keys() - NOT_DERIVED:
        for x, y in itertools.product(a.numbers[key], b.numbers[key]):
            if _derived_fits(f, x, y):
                return True
    return False


def _change(f: Figure, own: Values) -> bool:
    """One company's change: across its periods, or before → after (what-if, history)."""
    if f.kind not in ("pp", "amount", "pct"):
        return False
    steps = itertools.chain(
        itertools.combinations(own.numbers.get("value", []), 2),
        zip(own.numbers.get("old_value", []), own.numbers.get("new_value", []), strict=False),
        zip(own.numbers.get("old", []), own.numbers.get("new", []), strict=False),
    )
    return any(_derived_fits(f, x, y, ratio=False) for x, y in steps)


def _any_difference(f: Figure, every: Values) -> bool:
    """No company to bind to: any difference of two shares of the turn (the previous rule)."""
    shares = sorted({x for x in every.flat() if 0 <= x <= 1})
    return any(
        abs(abs(x - y) - f.value) <= f.tolerance for x, y in itertools.combinations(shares, 2)
    )


def _derived_fits(f: Figure, x: float, y: float, ratio: bool = True) -> bool:
    if f.kind in ("pp", "pct"):
        return 0 <= x <= 1 and 0 <= y <= 1 and abs(abs(x - y) - f.value) <= f.tolerance
    if f.kind == "amount":
        return abs(x) >= 1e5 and abs(abs(x - y) - f.value) <= f.tolerance
    if ratio and f.kind == "ratio" and x > 0 and y > 0:
        return min(abs(x / y - f.value), abs(y / x - f.value)) <= f.tolerance
    return False


def _expected(claim: Claim, ev: Evidence) -> str | None:
    """The subject's value that the claim got wrong, when the tools know it (for the repair)."""
    own = ev.of_subject(claim.subject)
    if not claim.subject:
        return None
    if claim.figure.kind == "rank" and own.numbers.get("rank"):
        return f"#{int(own.numbers['rank'][0])}"
    if claim.figure.kind == "archetype" and own.archetypes:
        return ", ".join(sorted(own.archetypes))
    main = own.numbers.get("value")
    if claim.figure.kind == "pct" and main and 0 <= main[0] <= 1:
        return f"{main[0] * 100:.0f}%"
    return None


def names_of(universe: Universe) -> tuple[tuple[str, str], ...]:
    """Every name a company may be written by in an answer, with its id."""
    out = []
    for c in universe.companies.values():
        out += [(c.id, c.id), (c.name.en, c.id), (c.name.zh, c.id)]
        out += [(alias, c.id) for alias in c.aliases if len(alias) > 1]
    return tuple(out)


def log_rejection(rejected: Sequence[Rejected | str], chat_id: str, stage: str) -> None:
    texts = [r.text if isinstance(r, Rejected) else r for r in rejected]
    log.warning(
        "grounding gate rejected %s answer for chat %s: unsupported %s", stage, chat_id, texts
    )
