"""What a ranking, a comparison and one company's place in a ranking say."""

from __future__ import annotations

from collections.abc import Sequence

from bot.text import fmt, terms
from bot.text.doc import Col, Doc, Line, Table
from bot.text.i18n import Lang, t
from tools.ranking import Comparison, Ranking, RankRow


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
    return [
        str(r.rank),
        terms.name(r, lang),
        r.period,
        terms.metric_value(metric, r.value, lang) + ("*" if r.estimated else ""),
        terms.metric_range(metric, r.p10, r.p90, lang),
        f"{r.rank_p10}–{r.rank_p90}",
        fmt.prob(r.p_above_next) if r.p_above_next is not None else "",
        terms.archetype(r.archetype, r.tags, lang),
    ]


def _table(rows: Sequence[RankRow], metric: str, lang: Lang) -> Table:
    return Table(_cols(lang), [_row(r, metric, lang) for r in rows])


def _estimates_note(rows: Sequence[RankRow], samples: int, seed: int, lang: Lang) -> list[Line]:
    if not any(r.estimated for r in rows):
        return []
    return [Line(t("estimated_note", lang, samples=samples, seed=seed), "note")]


def ranking(r: Ranking, lang: Lang) -> Doc:
    doc = Doc(title(r.metric, r.period, r.region, lang), [_table(r.rows, r.metric, lang)])
    return doc.add(*_estimates_note(r.rows, r.samples, r.seed, lang))


def pair(a: str, b: str, p_a_above_b: float, lang: Lang) -> str:
    """'P(Xiaomi above ByteDance) = 76%: likely, not certain', stated from the leader's side."""
    if p_a_above_b < 0.5:
        a, b, p_a_above_b = b, a, 1 - p_a_above_b
    shown = t("p_above_line", lang, a=a, b=b, p=fmt.prob(p_a_above_b))
    return f"{shown} ({terms.verdict(p_a_above_b, lang)})"


def comparison(c: Comparison, lang: Lang) -> Doc:
    names = {r.company: terms.name(r, lang) for r in c.rows}
    ids = [r.company for r in c.rows]
    pairs = [
        Line(pair(names[a], names[b], c.p_above[a][b], lang))
        for i, a in enumerate(ids)
        for b in ids[i + 1 :]
    ]
    title_ = t("compare_title", lang, metric=terms.metric(c.metric, lang))
    doc = Doc(title_, [_table(c.rows, c.metric, lang), *pairs])
    return doc


def position(r: Ranking, company: str, lang: Lang) -> Doc:
    """One company's place: 'Xiaomi ranks #1 of 14 by … (2026): 72%, estimate. p10–p90 …'."""
    row = next(x for x in r.rows if x.company == company)
    lead = t(
        "ans_rank_focus",
        lang,
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
    others = [x for x in r.rows if x.rank <= 3 and x.company != company]
    top = [
        f"{x.rank}. {terms.name(x, lang)} {terms.metric_value(r.metric, x.value, lang)}"
        for x in others
    ]
    parts = [lead, spread, t("ans_top", lang, items=terms.join(top, lang)) if top else ""]
    return Doc("", [Line(("" if lang == "zh" else " ").join(p for p in parts if p))])
