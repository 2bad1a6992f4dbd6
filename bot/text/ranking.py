"""What a ranking, a comparison and one company's place in a ranking say."""

from __future__ import annotations

from collections.abc import Sequence

from bot.text import fmt, terms
from bot.text.doc import Col, Doc, Line, Table
from bot.text.i18n import Lang, t
from tools.ranking import Comparison, PairOrder, Ranking, RankRow
from tools.taxonomy import METRICS


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


def _table(rows: Sequence[RankRow], metric: str, lang: Lang) -> Table:
    return Table(_cols(lang), [_row(r, metric, lang) for r in rows])


def _estimates_note(rows: Sequence[RankRow], samples: int, seed: int, lang: Lang) -> list[Line]:
    if not any(r.estimated for r in rows):
        return []
    return [Line(t("estimated_note", lang, samples=samples, seed=seed), "note")]


def ranking(r: Ranking, lang: Lang) -> Doc:
    doc = Doc(title(r.metric, r.period, r.region, lang), [_table(r.rows, r.metric, lang)])
    doc.add(*_estimates_note(r.rows, r.samples, r.seed, lang), *_ties(r.rows, lang))
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
