"""What a ranking move says, wherever it shows: a company's history, an import report, the
changed inputs of an alert, a chat answer; and the reports of `import` and `check`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

from bot.text import fmt, terms
from bot.text.doc import Col, Doc, Line, Section, Table
from bot.text.i18n import Lang, t
from tools.check import CheckReport
from tools.history import History, InputChange, Move
from tools.store import ImportResult

MOVES_SHOWN = 15  # a big import can move thousands; --json has them all
CHANGES_SHOWN = 20
PASSED_SHOWN = 5
# Inputs that move with every period and say nothing of their own.
_QUIET = ("period", "ai_capex.currency")


def _is_bound(c: InputChange) -> bool:
    return c.field.endswith((".low", ".high"))


def changed_inputs(changes: Iterable[InputChange], lang: Lang) -> list[str]:
    """The inputs whose point value changed, in words ('own inference', 'AI capex')."""
    fields = [c.field for c in changes if not _is_bound(c) and c.field not in _QUIET]
    return [terms.input_name(f, lang) for f in dict.fromkeys(fields)]


def input_changes(
    changes: Sequence[InputChange], currency: str | None, lang: Lang, limit: int
) -> list[str]:
    """'own inference 60% → 72%', biggest move first; an input whose range alone changed is
    named without numbers ('the ranges of own training')."""
    points = sorted((c for c in changes if not _is_bound(c)), key=_size, reverse=True)
    items = [
        f"{terms.input_name(c.field, lang)} {terms.input_value(c.field, c.old, currency, lang)}"
        f" → {terms.input_value(c.field, c.new, currency, lang)}"
        for c in points[:limit]
    ]
    moved = {c.field for c in points}
    ranges = [
        base
        for base in dict.fromkeys(c.field.rsplit(".", 1)[0] for c in changes if _is_bound(c))
        if base not in moved
    ]
    if ranges and len(items) < limit:
        names = terms.join([terms.input_name(r, lang) for r in ranges], lang)
        items.append(t("alert_why_ranges", lang, names=names))
    return items


def _size(c: InputChange) -> float:
    """How far an input moved: points for shares, a fraction for amounts; text first."""
    if not isinstance(c.old, float | int) or not isinstance(c.new, float | int):
        return float("inf")
    if c.field == "ai_capex":
        return abs(c.new - c.old) / abs(c.old) if c.old else float("inf")
    return abs(c.new - c.old)


def move(m: Move, metric: str, lang: Lang, label: str) -> list[Line]:
    """A move: its rank and value, the archetype change, the inputs, how sure the new order is."""
    lines = [
        Line(
            t(
                "move_line",
                lang,
                label=label,
                old=m.old_rank or "–",
                new=m.new_rank or "–",
                metric=terms.metric(metric, lang),
                old_value=terms.metric_value(metric, m.old_value, lang),
                new_value=terms.metric_value(metric, m.new_value, lang),
            )
        )
    ]
    if "archetype" in m.kinds:
        old, new = (
            terms.archetype(a or "unclassified", [], lang)
            for a in (m.old_archetype, m.new_archetype)
        )
        lines.append(Line(t("archetype_change", lang, old=old, new=new), indent=1))
    inputs = changed_inputs(m.changes, lang)
    if inputs:
        lines.append(Line(t("changed_inputs", lang, fields=terms.join(inputs, lang)), indent=1))
    if m.passed:
        lines.append(Line(t("passed_line", lang, items=_passed(m, lang)), indent=1))
    return lines


def _passed(m: Move, lang: Lang) -> str:
    """How sure the new order is against each company passed; past PASSED_SHOWN (thousands
    are passed when newcomers enter above), the least sure, as an alert says them."""
    shown, more = (
        (m.passed, 0) if len(m.passed) <= PASSED_SHOWN else weakest(m.passed, PASSED_SHOWN)
    )
    items = [f"{terms.name(p, lang)} {fmt.prob(p.p)} ({terms.confidence(p, lang)})" for p in shown]
    if more:
        items.append(t("alert_more_pairs", lang, n=more))
    return terms.join(items, lang)


class _Pair(Protocol):
    @property
    def p(self) -> float: ...
    @property
    def company(self) -> str: ...


Pair = TypeVar("Pair", bound=_Pair)


def weakest(pairs: Sequence[Pair], most: int) -> tuple[list[Pair], int]:
    """The `most` least sure pairs (a new order is only as sure as its weakest link), and how
    many are left out."""
    shown = sorted(pairs, key=lambda p: (p.p, p.company))[:most]
    return shown, len(pairs) - len(shown)


def _period_label(m: Move) -> str:
    return f"{m.old_period} → {m.new_period}"


def _moves(moves: Sequence[Move], metric: str, lang: Lang, label: str | None) -> list[Line]:
    if not moves:
        return [Line(t("none", lang))]
    return [x for m in moves for x in move(m, metric, lang, label or _period_label(m))]


def history(h: History, lang: Lang, span: Sequence[str] | None = None) -> Doc:
    """Rank per period, moves between periods and across revisions; with a `span` [from, to]
    ("since 2024", "这两年") only those periods, led by the change across the whole span."""
    if span:
        h = _within(h, span[0], span[1])
    title = t("history_title", lang, name=terms.name(h, lang), metric=terms.metric(h.metric, lang))
    cols = [
        Col(t("col_period", lang), "name"),
        Col(t("col_rank", lang), right=True),
        Col(t("col_value", lang), right=True),
        Col(t("col_archetype", lang)),
    ]
    rows = [
        [
            p.period,
            t("rank_of", lang, rank=p.rank, of=p.of),
            terms.metric_value(h.metric, p.value, lang),
            terms.archetype(p.archetype, [], lang),
        ]
        for p in h.periods
    ]
    doc = Doc(title, [Table(cols, rows)])
    if span and len(h.periods) >= 2:
        doc.blocks.insert(0, Line(_across(h, lang)))
    doc.add(
        Section(t("period_changes_title", lang), _moves(h.period_changes, h.metric, lang, None))
    )
    revisions = _moves(h.revisions, h.metric, lang, t("revision_label", lang))
    return doc.add(Section(t("revision_changes_title", lang), revisions))


def _within(h: History, start: str, end: str) -> History:
    periods = [p for p in h.periods if start <= p.period <= end]
    moves = [
        m for m in h.period_changes if start <= (m.old_period or "") and (m.new_period or "") <= end
    ]
    return h.model_copy(update={"periods": periods, "period_changes": moves})


def _across(h: History, lang: Lang) -> str:
    """'2024 → 2026: rank 3/28 → 4/28, self-use inference share 68% → 72%'."""
    first, last = h.periods[0], h.periods[-1]
    return t(
        "history_span",
        lang,
        start=first.period,
        end=last.period,
        rank_from=t("rank_of", lang, rank=first.rank, of=first.of),
        rank_to=t("rank_of", lang, rank=last.rank, of=last.of),
        metric=terms.metric(h.metric, lang),
        value_from=terms.metric_value(h.metric, first.value, lang),
        value_to=terms.metric_value(h.metric, last.value, lang),
    )


def import_report(result: ImportResult, moves: list[Move], metric: str, lang: Lang) -> Doc:
    if result.revision is None:
        return Doc(t("import_same", lang))
    doc = Doc(t("import_done", lang, revision=result.revision, n=len(result.changes)))
    changed = [Line(c) for c in result.changes[:CHANGES_SHOWN]]
    if len(result.changes) > CHANGES_SHOWN:
        changed.append(Line(f"… +{len(result.changes) - CHANGES_SHOWN}"))
    doc.add(Section("", changed))
    added = [m for m in moves if m.old_rank is None]
    moved = [m for m in moves if m.old_rank is not None]
    if added:
        names = terms.join([terms.name(m, lang) for m in added[:10]], lang)
        doc.add(
            Line(
                t(
                    "companies_added",
                    lang,
                    n=len(added),
                    names=names + (" …" if len(added) > 10 else ""),
                )
            )
        )
    if moved:
        lines = [x for m in moved[:MOVES_SHOWN] for x in move(m, metric, lang, terms.name(m, lang))]
        if len(moved) > MOVES_SHOWN:
            lines.append(Line(f"… +{len(moved) - MOVES_SHOWN}"))
        doc.add(Section(t("ranking_changes", lang), lines))
    elif not added:
        doc.add(Line(t("no_ranking_changes", lang)))
    return doc


def check_report(r: CheckReport, lang: Lang) -> Doc:
    title = t(
        "check_title",
        lang,
        companies=t("n_companies", lang, n=r.companies),
        sources=t("n_sources", lang, n=r.sources),
        errors=t("n_errors", lang, n=len(r.errors)),
        warnings=t("n_warnings", lang, n=len(r.findings) - len(r.errors)),
    )
    findings = [Line(f"{f.level.upper()} [{f.kind}] {f.where}: {f.message}") for f in r.findings]
    pairs = [Line(f"P({n.upper} > {n.lower}) = {fmt.prob(n.p_above)}") for n in r.neighbours]
    return Doc(title, [Section("", findings), Section(t("neighbours_title", lang), pairs)])
