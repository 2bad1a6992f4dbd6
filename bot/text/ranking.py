"""What a ranking, a comparison and one company's place in a ranking say."""

from __future__ import annotations

from collections.abc import Sequence

from bot.text import fmt, terms
from bot.text.doc import Col, Doc, Item, Line, Section, Table
from bot.text.i18n import Lang, t
from tools.breakdown import TierBreakdown
from tools.models import ALLOCATION_KEYS, LAYERS
from tools.ranking import Comparison, PairOrder, Ranking, RankRow
from tools.taxonomy import METRICS

# The inputs each metric is made of (tools.taxonomy's formulas): a gap between two companies on
# the metric comes from these. The allocation shares sum to one, so all four show where the
# compute goes instead; a dollar metric's money is the AI capex in dollars.
_ALLOCATION = tuple(f"allocation.{k}" for k in ALLOCATION_KEYS)
GAP_INPUTS: dict[str, tuple[str, ...]] = {
    "self_use_inference_share": _ALLOCATION,
    "inference_self_use_ratio": _ALLOCATION,
    "external_supply_share": _ALLOCATION,
    "margin_position": tuple(f"layer_mix.{k}" for k in LAYERS),
    "self_use_inference_usd": ("ai_capex_usd", "allocation.own_inference"),
    "ai_capex_usd": ("ai_capex_usd",),
}


def title(metric: str, period: str, region: str | None, lang: Lang) -> str:
    """'Ranking by self-use inference share (2026) · CN': the ranking's title everywhere,
    charts included."""
    text = t(
        "rank_title", lang, metric=terms.metric(metric, lang), period=terms.period(period, lang)
    )
    return text + (f" · {region}" if region else "")


def _cols(lang: Lang) -> list[Col]:
    return [
        Col(t("col_rank", lang), "rank", right=True),
        Col(t("col_company", lang), "name"),
        Col(t("col_period", lang)),
        Col(t("col_value", lang), "value", right=True),
        Col(t("col_range", lang), labelled=True),
        Col(t("col_rank_range", lang), "detail", labelled=True),
        Col(t("col_above_next", lang), "detail", right=True, labelled=True),
        Col(t("col_archetype", lang), "detail"),
    ]


def _row(r: RankRow, metric: str, lang: Lang) -> list[str]:
    """A ranked row, or an unranked one (its figure is not meaningful: '–' and the reason)."""
    above = r.above_next
    shown = r.value is not None
    return [
        "–" if r.rank is None else str(r.rank),
        terms.name(r, lang),
        r.period,
        terms.metric_value(metric, r.value, lang) + ("*" if r.estimated and shown else ""),
        terms.metric_range(metric, r.p10, r.p90, lang) if shown else "",
        "" if r.rank_p10 is None else f"{r.rank_p10}–{r.rank_p90}",
        fmt.prob(above.p) + terms.tie_mark(above) if above else "",
        terms.archetype(r.archetype, r.tags, lang),
    ]


def _unranked(rows: Sequence[RankRow], lang: Lang) -> list[Line]:
    """Why the unranked rows are not ranked, once per reason."""
    reasons = dict.fromkeys(r.reason for r in rows if r.reason)
    return [Line(t(f"reason_{reason}", lang), "note") for reason in reasons]


def _ties(rows: Sequence[RankRow], lang: Lang) -> list[Line]:
    marked = any(r.above_next is not None and r.above_next.tie for r in rows)
    return [Line(t("tie_note", lang), "note")] if marked else []


def _table(rows: Sequence[RankRow], metric: str, lang: Lang, archetypes: bool = True) -> Table:
    """The rows as a table; the archetype column last, left out when `archetypes` is False."""
    shown = None if archetypes else -1
    cols = _cols(lang)[:shown]
    return Table(cols, [_row(r, metric, lang)[:shown] for r in rows])


def _estimates_note(
    rows: Sequence[RankRow], samples: int, seed: int, lang: Lang, short: bool = False
) -> list[Line]:
    if not any(r.estimated for r in rows):
        return []
    note = t("star_note", lang) if short else t("estimated_note", lang, samples=samples, seed=seed)
    return [Line(note, "note")]


def ranking(r: Ranking, lang: Lang, *, short: bool = False) -> Doc:
    """The ranking's rows and notes; `short` leaves out what its chart shows (archetypes by
    colour, the samples behind the ranges), to fit a photo's caption."""
    table = _table(r.rows, r.metric, lang, archetypes=not short)
    doc = Doc(title(r.metric, r.period, r.region, lang), [table])
    doc.add(*_estimates_note(r.rows, r.samples, r.seed, lang, short), *_ties(r.rows, lang))
    return doc.add(*_unranked(r.rows, lang))


def pair(p: PairOrder, names: dict[str, str], lang: Lang) -> str:
    """'P(Xiaomi above ByteDance) = 93% (a robust order)', from the leader's side."""
    shown = t("p_above_line", lang, a=names[p.leader], b=names[p.other], p=fmt.prob(p.p))
    return f"{shown}{terms.tie_mark(p)} ({terms.confidence(p, lang)})"


def gap(p: PairOrder, rows: Sequence[RankRow], metric: str, lang: Lang) -> str | None:
    """'Microsoft vs Oracle: gap $86.0bn, ratio 2.56×' — what "how much more" asks for."""
    by_id = {r.company: r for r in rows}
    a, b = by_id.get(p.leader), by_id.get(p.other)
    if a is None or b is None or a.value is None or b.value is None:
        return None
    diff = a.value - b.value
    shown = (
        t("gap_pp", lang, points=f"{diff * 100:.1f}".rstrip("0").rstrip("."))
        if METRICS[metric].unit == "share"
        else terms.metric_value(metric, diff, lang)
    )
    ratio = f"{a.value / b.value:.2f}" if a.value > 0 and b.value > 0 else "–"
    return t("gap_line", lang, a=terms.name(a, lang), b=terms.name(b, lang), gap=shown, ratio=ratio)


def comparison(c: Comparison, lang: Lang) -> Doc:
    names = {r.company: terms.name(r, lang) for r in c.rows}
    title_ = t("compare_title", lang, metric=terms.metric(c.metric, lang))
    doc = Doc(title_, [_table(c.rows, c.metric, lang)])
    doc.add(*(Line(pair(p, names, lang)) for p in c.pairs))
    doc.add(*(Line(g) for p in c.pairs if (g := gap(p, c.rows, c.metric, lang))))
    return doc.add(*_ties(c.rows, lang), *_unranked(c.rows, lang))


REGIONS = {"CN": "region_cn", "US": "region_us"}  # a region's name in a sentence


def position(r: Ranking, company: str, lang: Lang) -> Doc:
    """One company's place: 'Xiaomi ranks #1 of 14 by … (2026): 72%, estimate. p10–p90 …'."""
    row = next(x for x in r.rows if x.company == company)
    # Within a region the rank is among its companies: "#2 of 8 US companies".
    region = {"region": t(REGIONS[r.region], lang)} if r.region in REGIONS else {}
    lead = t(
        "ans_rank_focus_region" if region else "ans_rank_focus",
        lang,
        **region,
        name=terms.name(row, lang),
        rank=row.rank,
        total=r.total,
        metric=terms.metric(r.metric, lang),
        period=row.period,
        value=terms.metric_value(r.metric, row.value, lang),
        est=t("ans_est", lang) if row.estimated else "",
    )
    spread = t(
        "ans_spread",
        lang,
        range=terms.metric_range(r.metric, row.p10, row.p90, lang),
        ranks=f"{row.rank_p10}–{row.rank_p90}",
    )
    if row.rank is None:  # not meaningful for this company: say why instead
        return Doc("", [*_unranked([row], lang)])
    others = [x for x in r.rows if x.rank is not None and x.rank <= 3 and x.company != company]
    top = [
        f"{x.rank}. {terms.name(x, lang)} {terms.metric_value(r.metric, x.value, lang)}"
        for x in others
    ]
    parts = [lead, spread, t("ans_top", lang, items=terms.join(top, lang)) if top else ""]
    return Doc("", [Line(("" if lang == "zh" else " ").join(p for p in parts if p))])


def gap_inputs(c: Comparison, breakdowns: Sequence[TierBreakdown], lang: Lang) -> Doc:
    """Which inputs make the gap between the first two compared companies, largest first:
    'own inference: 72% vs 45% (+27 pp)' (what "why is Xiaomi ahead of Tencent?" asks)."""
    by_id = {b.company: b for b in breakdowns}
    ranked = [by_id[r.company] for r in c.rows if r.value is not None and r.company in by_id]
    if len(ranked) < 2:
        return Doc("", [])
    a, b = ranked[:2]
    fields = [f for f in GAP_INPUTS[c.metric] if abs(_input(a, f) - _input(b, f)) >= 0.005]
    fields.sort(key=lambda f: abs(_input(a, f) - _input(b, f)), reverse=True)
    items = [Item(terms.input_name(f, lang), _input_gap(f, a, b, lang)) for f in fields]
    lead = t(
        "ans_gap_inputs",
        lang,
        a=terms.name(a, lang),
        b=terms.name(b, lang),
        metric=terms.metric(c.metric, lang),
        period=a.period,
    )
    return Doc("", [Section(lead, items)])


def _input(b: TierBreakdown, field: str) -> float:
    group, _, key = field.partition(".")
    if group == "allocation":
        return b.allocation[key]
    if group == "layer_mix":
        return b.layer_mix[key]
    return b.metrics[field] or 0.0


def _input_gap(field: str, a: TierBreakdown, b: TierBreakdown, lang: Lang) -> str:
    """'72% vs 45% (+27 pp)' for a share, '$9.4bn vs $5.0bn (1.88×)' for money."""
    x, y = _input(a, field), _input(b, field)
    if field == "ai_capex_usd":
        diff = f"{x / y:.2f}×" if y > 0 else "–"
        shown = (fmt.amount(x, "USD", lang), fmt.amount(y, "USD", lang))
    else:
        diff = t("gap_pp", lang, points=f"{(x - y) * 100:+.0f}")
        shown = (fmt.pct(x), fmt.pct(y))
    return t("ans_gap_input", lang, a=shown[0], b=shown[1], diff=diff)


def neighbours(r: Ranking, company: str, lang: Lang) -> list[Line]:
    """How sure one company's place is: P(it is above the next one) and P(the one before it
    is above it), from the ranking's ladder ("how sure is Xiaomi's #4?")."""
    ranked = [x for x in r.rows if x.rank is not None]
    at = next((i for i, x in enumerate(ranked) if x.company == company), None)
    if at is None:
        return []
    pairs = [(ranked[at], ranked[at + 1])] if at + 1 < len(ranked) else []
    pairs = ([(ranked[at - 1], ranked[at])] if at > 0 else []) + pairs
    lines = []
    for upper, lower in pairs:
        if upper.above_next is None:
            continue
        c = upper.above_next
        shown = t(
            "ans_p_above_rank",
            lang,
            a=terms.name(upper, lang),
            rank_a=upper.rank,
            b=terms.name(lower, lang),
            rank_b=lower.rank,
            p=fmt.prob(c.p),
        )
        lines.append(Line(f"{shown}{terms.tie_mark(c)} ({terms.confidence(c, lang)})"))
    return lines
