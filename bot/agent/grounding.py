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

import dataclasses
import functools
import itertools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from bot.agent.claims import Claim, Figure, fold, reader_for
from bot.agent.evidence import (
    GLOBAL,
    NOT_DERIVED,
    PROB_KEYS,
    RANGE_KEYS,
    SCENARIO,
    Evidence,
    Values,
)
from bot.agent.evidence import names_of as names_of

log = logging.getLogger(__name__)


class Rejected(BaseModel):
    """A claim the gate refused: as written, whom it was about, and why."""

    text: str
    subject: str
    # "no_value" | "wrong_rank" | "wrong_archetype" | "unknown_year" | "wrong_direction"
    # | "wrong_metric" | "scenario_as_fact"
    reason: str
    expected: str | None = None  # the subject's value as the tools know it, when they do


@dataclass
class Verdict:
    rejected: list[Rejected]
    claims: int
    unbound: int  # claims with no company to bind to: checked by the turn-wide rule


def check(answer: str, evidence: Evidence) -> Verdict:
    """Every claim of the answer that its subject's tool values do not support."""
    claims = reader_for(evidence.names).claims(_unquoted(answer, evidence))
    periods = {c.period for c in claims if c.period is not None}
    rejected, unbound = [], 0
    for claim in claims:
        if not claim.subject or claim.carried:
            unbound += 1
        reason = _unsupported(claim, evidence, periods)
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


def _unquoted(answer: str, ev: Evidence) -> str:
    """The answer without the data text it quotes whole, word for word (a source title, a
    note): that is a citation, not a claim. A sentence taken out of a note is still a claim:
    "Alibaba is ranked #1 with 99%" is checked like any other (issue 14)."""
    text = fold(answer)
    for quote in ev.quotes:
        if quote in text:
            text = text.replace(quote, " " * len(quote))
    return text


def unique(rejected: list[Rejected]) -> list[Rejected]:
    seen: dict[tuple[str, str], Rejected] = {}
    for r in rejected:
        seen.setdefault((r.text, r.subject), r)
    return list(seen.values())


def unsupported(answer: str, evidence: Evidence) -> list[str]:
    """The claims no tool value of their subject supports, as written."""
    return [r.text for r in check(answer, evidence).rejected]


def _unsupported(claim: Claim, ev: Evidence, periods: set[float]) -> str | None:
    f = claim.figure
    if f.kind == "order":
        return _order(claim, ev)
    own = ev.of_subject(claim.subject, claim.scenario) if claim.subject else _everything(ev)
    if f.ranged and len(claim.others) >= 2:  # "between 22% and 45%" over a list of companies
        for other in claim.others:
            own = own.merged(ev.of_subject(other, claim.scenario))
        claim = dataclasses.replace(claim, figure=dataclasses.replace(f, ranged=False))
        f = claim.figure
    if f.kind in ("pct", "rank", "amount", "plain"):
        own = own.at(_period(claim, own))
    if f.kind == "archetype" and claim.scenario and claim.becomes:
        own = ev.of_subject(claim.subject + SCENARIO)  # "would become a dual-role company"
    if f.kind == "year":
        # Years written in the company's notes and source titles ("~1/3 in 2023") may be
        # quoted, but a year a figure is said of must be a period of the data.
        quoted = own.years if f.value not in periods else set()
        return None if f.value in ev.periods | quoted else "unknown_year"
    reason = _against(claim, own, ev)
    if reason and claim.carried and f.kind not in ("archetype", "rank"):
        # "It" may not be the company of the sentence before: such claims fall back to the
        # turn-wide rule, like claims with no company at all.
        return _against(Claim(f, "", (), metric=claim.metric, firm=claim.firm), _everything(ev), ev)
    if reason and not claim.scenario and claim.subject:
        as_scenario = ev.of_subject(claim.subject, scenario=True).at(claim.period)
        if _against(claim, as_scenario, ev) is None:
            return "scenario_as_fact"  # a what-if's figure said as the company's actual value
    return reason


def _period(claim: Claim, own: Values) -> float | None:
    """The period a claim is of: the year it names, else the first or last of a move."""
    if claim.period is not None or not claim.move or not own.by_period:
        return claim.period
    return min(own.by_period) if claim.move == "from" else max(own.by_period)


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
    if f.prob and claim.order:
        return None if _ordered_prob(f, claim.order, ev) else "wrong_direction"
    if f.prob and any(_matches(f, ev.of_subject(c)) for c in claim.others):
        return None  # "… tied with Meta (a 54% chance it is ahead)": the probability of "it"
    if f.diff and f.kind in ("pct", "amount"):  # "$86bn more": a pair's gap, never a level
        return None if _derived(f, claim, ev) else _calculated(f, ev, "no_value")
    if claim.firm and claim.metric and f.kind in ("pct", "amount"):
        reason = _of_metric(f, claim.metric, own)
        if reason and f.kind == "amount" and _derived(f, claim, ev):  # "… is $4.2bn more than …"
            return None
        if reason and claim.scenario and _matches(f, ev.of_subject(claim.subject + SCENARIO)):
            return None  # the supposition itself: "if it sold half …"
        return reason and _calculated(f, ev, reason)
    if _matches(f, own) or _matches(f, ev.of_subject(GLOBAL), passed_only=bool(claim.subject)):
        return None
    if f.kind in ("pp", "ratio", "pct", "amount", "plain") and _derived(f, claim, ev):
        return None
    if f.kind == "pp" and not claim.subject and _any_difference(f, own):
        return None
    return _calculated(f, ev, "no_value")


def _calculated(f: Figure, ev: Evidence, reason: str) -> str | None:
    """None when a calculator result of this turn backs the figure (its operands were checked
    by bot.agent.evidence), else the reason it was refused."""
    derived = f.kind not in ("rank", "top", "count", "year", "archetype")
    return None if derived and _matches(f, ev.calc, calc=True) else reason


def _of_metric(f: Figure, metric: str, own: Values) -> str | None:
    """A figure said of a metric ("AI capex is RMB 150bn"): only that metric's values back it;
    when the subject has none, neither does any other metric's (nor a note's)."""
    values = Values()
    for x, key, currency in own.labelled.get(metric, []):
        if f.ranged or key not in RANGE_KEYS:
            values.numbers["value"].append(x)
            if abs(x) >= 1e5:
                values.amounts.append((x, currency, key))
    if values.numbers:
        return None if _matches(f, values) else "wrong_metric"
    other = Values(labelled=own.labelled)
    for entries in own.labelled.values():
        for x, key, currency in entries:
            other.numbers["value"].append(x)
            other.amounts.append((x, currency, key))
    return "wrong_metric" if _matches(f, other) else "no_value"


def _order(claim: Claim, ev: Evidence) -> str | None:
    """ "A比B高", "A spends more than B", "A ranks above B": the tools must put A ahead (a tie
    is no contradiction). A pair's gap says it best; else both companies' values of the metric
    the sentence names (or of the one metric the turn gave both); else it cannot be told."""
    if claim.scenario or not claim.order:
        return None
    ahead, behind = claim.order
    for pair, sign in ((f"{ahead}|{behind}", 1), (f"{behind}|{ahead}", -1)):
        values = ev.of_subject(pair)
        gaps = values.numbers.get("gap", [])
        if claim.metric:  # a pair compared on the metric the sentence names, if the turn has it
            gaps = [x for x, key, _ in values.labelled.get(claim.metric, []) if key == "gap"]
        if gaps:
            return None if sign * gaps[0] >= -1e-9 else "wrong_direction"
    a, b = ev.of_subject(ahead).labelled, ev.of_subject(behind).labelled
    common = [m for m in a.keys() & b.keys() if _main(a[m]) is not None and _main(b[m]) is not None]
    metric = claim.metric if claim.metric in common else common[0] if len(common) == 1 else None
    if metric is None:
        return None
    x, y = _main(a[metric]), _main(b[metric])
    return None if x is None or y is None or x >= y - 1e-9 else "wrong_direction"


def _main(entries: list[tuple[float, str, str]]) -> float | None:
    """A company's value of a metric: in dollars when it has one, never a range end."""
    values = [(cur != "USD", x) for x, key, cur in entries if key not in RANGE_KEYS | PROB_KEYS]
    return min(values)[1] if values else None


def _ordered_prob(f: Figure, order: tuple[str, str], ev: Evidence) -> bool:
    """P(A above B) said with its direction: the pair's probability, or 1 − it when the tools
    list the pair the other way round."""
    ahead, behind = order
    forward = ev.of_subject(f"{ahead}|{behind}").numbers.get("p_a_above_b", [])
    backward = ev.of_subject(f"{behind}|{ahead}").numbers.get("p_a_above_b", [])
    candidates = forward + [1 - p for p in backward]
    if not candidates:  # no pair: the company said to be ahead, above the next row
        candidates = ev.of_subject(ahead).numbers.get("p_above_next", [])
    return any(abs(p - f.value) <= f.tolerance for p in candidates)


def _everything(ev: Evidence) -> Values:
    every = Values()
    for values in ev.subjects.values():
        every = every.merged(values)
    return every


# Figures read from data text back only amounts and plain numbers (bot.agent.evidence).
_QUOTED_KINDS = frozenset({"amount", "plain"})


def _matches(f: Figure, values: Values, passed_only: bool = False, calc: bool = False) -> bool:
    prob = f.prob if f.kind == "pct" else None
    if passed_only:
        numbers = values.numbers.get("asked", [])
    else:
        numbers = [
            x
            for key, xs in values.numbers.items()
            if (f.ranged or key not in RANGE_KEYS)
            and (prob is None or calc or prob == (key in PROB_KEYS))
            and (key != "text" or f.kind in _QUOTED_KINDS)
            for x in xs
        ]
    if f.kind == "amount":
        amounts = [(x, "", "") for x in numbers] if passed_only else values.amounts
        return any(
            abs(x - f.value) <= f.tolerance and (not f.currency or not cur or cur == f.currency)
            for x, cur, key in amounts
            if f.ranged or key not in RANGE_KEYS
        )
    if f.kind == "pp":  # points are a difference: never a share itself ("5 pp" ≠ a 5% layer)
        keys = ("gap", "change", "said", "asked", "calc")
        diffs = [x for k in keys for x in values.numbers.get(k, [])]
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
    own = ev.of_subject(claim.subject, claim.scenario)
    if len(claim.years) >= 2 and own.by_period:  # "from 23% in 2025 to 26% in 2026, up 3 pp"
        dated = [own.by_period.get(y) or Values() for y in claim.years]
        own = functools.reduce(Values.merged, dated)
    return _change(f, own, claim.metric)


def _pair_derived(f: Figure, a: Values, b: Values) -> bool:
    for key in a.numbers.keys() & b.numbers.keys() - NOT_DERIVED:
        for x, y in itertools.product(a.numbers[key], b.numbers[key]):
            if _derived_fits(f, x, y):
                return True
    return False


def _change(f: Figure, own: Values, metric: str | None) -> bool:
    """One company's change: across its periods, or before → after (what-if, history) — of
    the metric said, else of the result's own metric (not of every input that moved)."""
    if f.kind not in ("pp", "amount", "pct", "ratio"):
        return False
    steps: Iterable[tuple[float, float]]
    if metric:
        steps = itertools.combinations(
            [x for x, k, _ in own.labelled.get(metric, []) if k not in RANGE_KEYS], 2
        )
    else:
        steps = itertools.chain(
            itertools.combinations(own.numbers.get("value", []), 2),
            zip(own.numbers.get("old_value", []), own.numbers.get("new_value", []), strict=False),
        )
    return any(_derived_fits(f, x, y) for x, y in steps)


def _any_difference(f: Figure, every: Values) -> bool:
    """No company to bind to: any difference of two shares of the turn (the previous rule)."""
    shares = sorted(
        {x for k, xs in every.numbers.items() if k != "text" for x in xs if 0 <= x <= 1}
    )
    return any(
        abs(abs(x - y) - f.value) <= f.tolerance for x, y in itertools.combinations(shares, 2)
    )


def _derived_fits(f: Figure, x: float, y: float) -> bool:
    if f.kind in ("pp", "pct"):
        return 0 <= x <= 1 and 0 <= y <= 1 and abs(abs(x - y) - f.value) <= f.tolerance
    if f.kind == "amount":
        return abs(x) >= 1e5 and abs(abs(x - y) - f.value) <= f.tolerance
    if f.kind == "ratio" and x > 0 and y > 0:
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


def log_rejection(rejected: Sequence[Rejected | str], chat_id: str, stage: str) -> None:
    texts = [r.text if isinstance(r, Rejected) else r for r in rejected]
    log.warning(
        "grounding gate rejected %s answer for chat %s: unsupported %s", stage, chat_id, texts
    )
