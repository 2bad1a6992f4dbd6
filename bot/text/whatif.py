"""What a what-if says: the changed inputs in words (capex in the company's currency), the
baseline and the scenario side by side, and that nothing was saved."""

from __future__ import annotations

from bot.text import terms
from bot.text.doc import Col, Doc, Line, Table
from bot.text.i18n import Lang, t
from tools.whatif import Outcome, WhatIf


def overrides(w: WhatIf, lang: Lang) -> str:
    """'own inference 30%, AI capex RMB50.0bn'."""
    items = [
        f"{terms.input_name(k, lang)} {terms.input_value(k, v, w.currency, lang)}"
        for k, v in w.overrides.items()
    ]
    return terms.join(items, lang)


def _row(label: str, o: Outcome, metric: str, lang: Lang) -> list[str]:
    return [
        t(label, lang),
        t("rank_of", lang, rank=o.rank, of=o.of),
        terms.metric_value(metric, o.value, lang),
        terms.archetype(o.archetype, o.tags, lang),
    ]


def whatif(w: WhatIf, lang: Lang) -> Doc:
    cols = [
        Col("", "name"),
        Col(t("col_rank", lang)),
        Col(t("col_value", lang), "value", right=True),
        Col(t("col_archetype", lang), "detail"),
    ]
    rows = [_row(x, getattr(w, x), w.metric, lang) for x in ("baseline", "scenario")]
    return Doc(
        t("whatif_title", lang, name=terms.name(w, lang), period=w.period),
        [
            Line(t("overrides_line", lang, items=overrides(w, lang))),
            Table(cols, rows),
            Line(t("whatif_note", lang), "note"),
        ],
    )


def _archetype_move(w: WhatIf, lang: Lang) -> str:
    old = terms.archetype(w.baseline.archetype, w.baseline.tags, lang)
    new = terms.archetype(w.scenario.archetype, w.scenario.tags, lang)
    return (
        t("ans_arch_same", lang, name=new)
        if old == new
        else t("ans_arch_moves", lang, old=old, new=new)
    )


def scenario(w: WhatIf, lang: Lang, sold_fraction: float | None = None) -> Doc:
    """The what-if as a conditional sentence ('If Alibaba had …, its … would …')."""
    if sold_fraction is not None:
        change = t(
            "ans_whatif_sell", lang, fraction=terms.input_value("share", sold_fraction, None, lang)
        )
    else:
        change = terms.join(
            [
                t(
                    "ans_override",
                    lang,
                    field=terms.input_name(k, lang),
                    value=terms.input_value(k, v, w.currency, lang),
                )
                for k, v in w.overrides.items()
            ],
            lang,
        )
    b, s = w.baseline, w.scenario
    sentence = t(
        "ans_whatif",
        lang,
        name=terms.name(w, lang),
        period=w.period,
        change=change,
        metric=terms.metric(w.metric, lang),
        old=terms.metric_value(w.metric, b.value, lang),
        new=terms.metric_value(w.metric, s.value, lang),
        old_rank=b.rank,
        new_rank=s.rank,
        of=s.of,
        archetype=_archetype_move(w, lang),
    )
    return Doc("", [Line(sentence), Line(t("ans_whatif_note", lang))])
