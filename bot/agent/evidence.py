"""This turn's tool results read as evidence: every value with its subject, metric and period.

A number under a dict with a "company" key belongs to that company, under "a"/"b" to that
pair; it is labelled with the metric or input it is a value of (the key it sits under, or the
result's "metric" for a row's value: bot.agent.clauses.METRIC_OF_KEY). A what-if's scenario
(its outcome, inputs and overrides, and the what-if's arguments) belongs to "<company>@scenario":
it backs only sentences said as a scenario. Figures inside data text (notes, descriptions,
titles: `FREE_TEXT`) are quoted data: they back amounts and plain numbers never said of a
metric, never a share, rank, gap or ratio. Calculator results back any derived figure when
every operand is a value of this turn.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.agent.calculator import operands
from bot.agent.claims import Figure, fold, reader_for
from bot.agent.clauses import METRIC_OF_KEY
from tools.universe import Universe

GLOBAL = ""
SCENARIO = "@scenario"  # suffix of a what-if's scenario subject; alone: the what-if's inputs
SCENARIO_KEYS = frozenset({"scenario", "inputs_after", "overrides", "sold_fraction"})
WHAT_IF_ARGS = frozenset({"overrides", "sell_own_inference"})
FREE_TEXT = frozenset({"quoted_note", "description", "title", "period_note"})
# Ends of a range and model outputs: they support a figure written as a range end only, and
# never feed a derived gap or ratio ("$141bn vs $55bn" is not p90 minus p10).
RANGE_KEYS = frozenset({"p10", "p90", "low", "high", "rank_range"})
# Probabilities of an order support only a figure said as a probability, and only those do.
PROB_KEYS = frozenset({"p_above_next", "p_a_above_b", "p", "passed"})
NOT_DERIVED = RANGE_KEYS | PROB_KEYS | {"rank", "of", "total", "text", "asked"}
# Keys whose number is a value of the metric around it (a row's value, a pair's gap).
OF_METRIC = frozenset(
    {"value", "low", "high", "p10", "p90", "old", "new", "old_value", "new_value", "gap", "ratio"}
)
SHARE_KEYS = frozenset({"unit", "currency", "capex_currency"})
ID_KEYS = frozenset(
    {"period", "periods", "old_period", "new_period", "company", "a", "b", "sources", "id"}
    | {"name", "kind", "url", "archetype", "tags", "field", "metric", "expression"}
)
_MAY_HOLD_FIGURES = re.compile(r"[\d一二三四五六七八九十两半]|half|third|quarter|twice|double")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_SCALES = (1.0, 0.01, 1e6, 1e8, 1e9, 1e12)  # how an operand may be written: 45 (%), 1800 (亿)


@dataclass
class Values:
    """One subject's numbers, keyed by where they sat (key name), with the currency if said."""

    numbers: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    amounts: list[tuple[float, str, str]] = field(default_factory=list)
    ranks: set[float] = field(default_factory=set)
    archetypes: set[str] = field(default_factory=set)
    years: set[float] = field(default_factory=set)  # years written in its notes and sources
    # metric id → (value, key, currency): which metric each number is a value of
    labelled: dict[str, list[tuple[float, str, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    by_period: dict[float, Values] = field(default_factory=dict)  # the same, per data period

    def at(self, period: float | None) -> Values:
        """Only the values of one period; a period the subject has no data for keeps only
        figures of its notes (they carry no period of their own)."""
        if period is None or not self.by_period:
            return self
        dated = self.by_period.get(period) or Values()
        numbers = defaultdict(list, dated.numbers, text=self.numbers.get("text", []))
        amounts = dated.amounts + [a for a in self.amounts if a[2] == "text"]
        return Values(numbers, amounts, dated.ranks, self.archetypes, self.years, dated.labelled)

    def flat(self, ranged: bool = True, prob: bool | None = None) -> Iterable[float]:
        for key, xs in self.numbers.items():
            if (ranged or key not in RANGE_KEYS) and (prob is None or prob == (key in PROB_KEYS)):
                yield from xs

    def merged(self, other: Values) -> Values:
        out = Values()
        for values in (self, other):
            for k, xs in values.numbers.items():
                out.numbers[k] += xs
            for m, entries in values.labelled.items():
                out.labelled[m] += entries
            out.amounts += values.amounts
            out.ranks |= values.ranks
            out.archetypes |= values.archetypes
            out.years |= values.years
        return out


@dataclass
class Evidence:
    """This turn's tool values, by subject."""

    subjects: dict[str, Values]
    periods: set[float]
    names: tuple[tuple[str, str], ...]
    calc: Values = field(default_factory=Values)  # checked calculator results (any subject)
    seen: list[float] = field(default_factory=list)
    quotes: set[str] = field(default_factory=set)  # data text, case-folded: cited whole

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
        calculations = [r for r in results if isinstance(r, dict) and "expression" in r]
        for result in results:
            # A tool's error ("top: less than or equal to 50") is no evidence of anything.
            if not (isinstance(result, dict) and ({"expression", "error"} & result.keys())):
                ev._walk(result, GLOBAL, "", "", None, None)
        for args in arguments:  # a what-if's inputs hold for its scenario only
            scenario = isinstance(args, dict) and bool(WHAT_IF_ARGS & args.keys())
            passed = ev.subjects[SCENARIO if scenario else GLOBAL]
            _numbers_of(args, passed)
            ev.seen += passed.numbers["asked"]
        for result in calculations:
            ev._calculation(result)
        ev.periods |= {float(y) for y in _YEAR.findall(question)}
        return ev

    def _walk(
        self, node: Any, subject: str, key: str, unit: str, period: float | None, metric: str | None
    ) -> None:
        if isinstance(node, dict):
            period = _period_of(node.get("period"), period)
            if isinstance(node.get("company"), str):
                subject = node["company"]
            elif isinstance(node.get("a"), str) and isinstance(node.get("b"), str):
                subject = f"{node['a']}|{node['b']}"
            unit = next((str(node[k]) for k in SHARE_KEYS if isinstance(node.get(k), str)), unit)
            for label in (node.get("metric"), node.get("field")):
                if isinstance(label, str):
                    metric = METRIC_OF_KEY.get(label.rsplit(".", 1)[-1], metric)
            for k, value in node.items():
                # {"netease": 0.484}: a value keyed by a company is that company's
                owner, name = (k, key) if k in self.ids else (subject, k)
                if k in SCENARIO_KEYS and "@" not in owner:
                    owner += SCENARIO
                # A move's old_rank/new_value belong to its old_period/new_period.
                side = _period_of(node.get(f"{k[:3]}_period"), period) if k[3:4] == "_" else period
                inner = METRIC_OF_KEY.get(k.rsplit(".", 1)[-1], metric)
                self._walk(value, owner, name, unit, side, inner)
        elif isinstance(node, list):
            for item in node:
                self._walk(item, subject, key, unit, period, metric)
        elif isinstance(node, bool) or node is None:
            return
        elif isinstance(node, int | float):
            label = METRIC_OF_KEY.get(key.rsplit(".", 1)[-1]) or (
                metric if key in OF_METRIC else None
            )
            self.seen.append(float(node))
            self._number(float(node), self.subjects[subject], key, unit, label)
            if period is not None:
                dated = self.subjects[subject].by_period.setdefault(period, Values())
                self._number(float(node), dated, key, unit, label)
        elif isinstance(node, str):
            self._string(node, subject, key)

    @staticmethod
    def _number(x: float, values: Values, key: str, unit: str, metric: str | None) -> None:
        values.numbers[key].append(x)
        if key.endswith("rank") or key in ("of", "total"):
            values.ranks.add(x)
        currency = ""
        if abs(x) >= 1e5:
            currency = "USD" if key.endswith("usd") or unit.casefold() == "usd" else unit.upper()
            values.amounts.append((x, currency, key))
        if metric:
            values.labelled[metric].append((x, key, currency))

    def _string(self, text: str, subject: str, key: str) -> None:
        values = self.subjects[subject]
        if key in FREE_TEXT and len(text) >= 12:
            self.quotes.add(fold(text))
        if "archetype" in key or key == "tags":
            values.archetypes.add(text)
        if "period" in key and text.isdigit():
            self.periods.add(float(text))
        if key in ID_KEYS or not _MAY_HOLD_FIGURES.search(text):
            return  # ids, names and words: reading them as claims costs time and finds nothing
        # Figures inside notes ("RPO $627bn") are the subject's, and of whom the note names;
        # in text the tools wrote (a rule: "external supply share 58% ≥ 50%") they are figures.
        quoted = key in FREE_TEXT
        for claim in reader_for(self.names).claims(text):
            for owner in {subject, claim.subject}:
                self._text_figure(claim.figure, self.subjects[owner], quoted)

    def _text_figure(self, f: Figure, values: Values, quoted: bool) -> None:
        if f.kind == "year":
            values.years.add(f.value)
        elif f.kind == "rank" and not quoted:
            values.ranks.add(f.value)
        elif f.kind in ("pct", "amount", "plain", "ratio", "pp"):
            if quoted and f.kind not in ("amount", "plain"):
                return  # a share in a note is not a value of any metric
            values.numbers["text" if quoted else "said"].append(f.value)
            if f.kind == "amount":
                values.amounts.append((f.value, f.currency, "text" if quoted else "said"))

    def _calculation(self, result: dict[str, Any]) -> None:
        """A calculator result is evidence when each operand is a value seen this turn,
        as written or in a display unit (45 for 0.45, 1800 for 1800亿): then so is its value
        at the scale its operands were written in."""
        scales = [self._scale(x, slack) for x, slack in operands(result["expression"])]
        value = result.get("value")
        if not isinstance(value, int | float) or None in scales:
            return
        for scale in {1.0, *scales}:
            self._number(float(value) * (scale or 1.0), self.calc, "calc", "", None)

    def _scale(self, x: float, slack: float) -> float | None:
        for scale in _SCALES:
            if any(abs(x * scale - y) <= (slack + 1e-9) * scale for y in self.seen):
                return scale
        return None

    def of_subject(self, cid: str, scenario: bool = False) -> Values:
        own = self.subjects.get(cid) or Values()
        if scenario:
            extra = self.subjects.get(cid + SCENARIO) or Values()
            return own.merged(extra).merged(self.subjects.get(SCENARIO) or Values())
        return own


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


def names_of(universe: Universe) -> tuple[tuple[str, str], ...]:
    """Every name a company may be written by in an answer, with its id."""
    out = []
    for c in universe.companies.values():
        out += [(c.id, c.id), (c.name.en, c.id), (c.name.zh, c.id)]
        out += [(alias, c.id) for alias in c.aliases if len(alias) > 1]
    return tuple(out)
