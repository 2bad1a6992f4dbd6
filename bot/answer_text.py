"""Natural-language answers rendered from tool results, in Chinese or English.

The offline planner's answers and the grounding gate's fallback both come from here, so every
number in them is a tool number formatted by bot.fmt (which the gate knows how to read back).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot import fmt
from bot import tool_views as v
from bot.i18n import Lang, t
from bot.llm_tools import Outcome
from bot.planner import Plan
from bot.render_text import archetype
from tools.confidence import Level, order_confidence
from tools.taxonomy import LAYER_TERMS, METRICS

MAX_SOURCES = 4  # a chat answer names a few sources; the full list is one command away


def render(outcomes: Sequence[Outcome], lang: Lang, plan: Plan | None = None) -> str:
    """All results of a turn as one answer, each in the words of its kind."""
    focus = plan.companies if plan else []
    views = [o.view for o in outcomes]
    # An LLM stuck in a loop asks for the same result again and again; say it once.
    unique = [view for i, view in enumerate(views) if view not in views[:i]]
    parts = [_render_one(view, lang, focus, plan) for view in unique]
    return "\n\n".join(p for p in parts if p)


def _render_one(view: object, lang: Lang, focus: list[str], plan: Plan | None) -> str:
    match view:
        case v.ErrorView():
            return error(view, lang)
        case v.FindView():
            return found(view, lang)
        case v.RankView():
            return ranking(view, lang, focus)
        case v.CompareView():
            return comparison(view, lang)
        case v.TiersView():
            return tiers(view, lang)
        case v.ProfileView():
            return profile(view, lang, plan.metric if plan else None)
        case v.HistoryView():
            return history(view, lang)
        case v.WhatIfView():
            return whatif(view, lang)
        case v.MethodologyView():
            return methodology(view, lang, plan.topics if plan else [])
    return ""


def _metric(metric: str, lang: Lang) -> str:
    return METRICS[metric].name(lang)


def _value(x: float | None, unit: str, lang: Lang) -> str:
    return fmt.metric_value(x, unit, lang)


def _period(period: str, lang: Lang) -> str:
    return t("latest", lang) if period == "latest" else period


def _est(estimate: bool, lang: Lang) -> str:
    return t("ans_est", lang) if estimate else ""


def _join(items: Sequence[str], lang: Lang) -> str:
    return ("、" if lang == "zh" else ", ").join(items)


def error(e: v.ErrorView, lang: Lang) -> str:
    text = t("ans_tool_error", lang, message=e.error)
    if e.suggestions and e.error.startswith("unknown company"):
        text += " " + t("did_you_mean", lang, names=", ".join(e.suggestions))
    return text


def found(f: v.FindView, lang: Lang) -> str:
    if not f.matches:
        text = t("unknown_company", lang, query=f.query)
        return text + (
            " " + t("did_you_mean", lang, names=", ".join(f.suggestions)) if f.suggestions else ""
        )
    items = [f"{m.name} ({m.id}, {m.region})" for m in f.matches]
    return t("ans_found", lang, items=_join(items, lang))


def _rank_line(r: v.RankItem, unit: str, lang: Lang) -> str:
    star = "*" if r.estimate else ""
    return t(
        "ans_rank_row",
        lang,
        rank=r.rank,
        name=r.name,
        value=_value(r.value, unit, lang) + star,
        range=fmt.metric_range(r.p10, r.p90, unit, lang),
        archetype=archetype(r.archetype, r.tags, lang),
    )


def ranking(r: v.RankView, lang: Lang, focus: Sequence[str] = ()) -> str:
    metric, period = _metric(r.metric, lang), _period(r.period, lang)
    focused = [row for row in r.rows if row.company in focus]
    lines = [_rank_focus(row, r, lang) for row in focused]
    if not focused:
        region = f" · {r.region}" if r.region else ""
        lines.append(
            t("ans_rank_title", lang, metric=metric, period=period, total=r.total) + region
        )
        lines += [_rank_line(row, r.unit, lang) for row in r.rows]
        if any(row.estimate for row in r.rows):  # a focused answer says "estimate" in words
            lines.append(t("ans_est_note", lang))
    lines.append(_source_ids([s for row in (focused or r.rows) for s in row.sources], lang))
    return "\n".join(lines)


def _rank_focus(row: v.RankItem, r: v.RankView, lang: Lang) -> str:
    lead = t(
        "ans_rank_focus",
        lang,
        name=row.name,
        rank=row.rank,
        total=r.total,
        metric=_metric(r.metric, lang),
        period=row.period,
        value=_value(row.value, r.unit, lang),
        est=_est(row.estimate, lang),
    )
    spread = t(
        "ans_spread",
        lang,
        range=fmt.metric_range(row.p10, row.p90, r.unit, lang),
        ranks=f"{row.rank_range[0]}–{row.rank_range[1]}" if row.rank_range else "–",
    )
    others = [x for x in r.rows if x.rank is not None and x.rank <= 3 and x.company != row.company]
    top = [f"{x.rank}. {x.name} {_value(x.value, r.unit, lang)}" for x in others]
    parts = [lead, spread, t("ans_top", lang, items=_join(top, lang)) if top else ""]
    return ("" if lang == "zh" else " ").join(p for p in parts if p)


def _source_ids(ids: Sequence[str], lang: Lang) -> str:
    return _sources(list(dict.fromkeys(ids)), lang)


def _source_refs(sources: Sequence[v.SourceRef], lang: Lang) -> str:
    """Who said it and when: titles are long, the full records are one tool call away."""
    items = [f"{s.publisher}{' ' + s.date if s.date else ''}" for s in sources]
    return _sources(list(dict.fromkeys(items)), lang)


def _sources(items: list[str], lang: Lang) -> str:
    more = " …" if len(items) > MAX_SOURCES else ""
    return t("ans_sources", lang, items="; ".join(items[:MAX_SOURCES]) + more)


def comparison(c: v.CompareView, lang: Lang) -> str:
    items = [
        t(
            "ans_compare_item",
            lang,
            name=r.name,
            value=_value(r.value, c.unit, lang) + ("*" if r.estimate else ""),
            rank=r.rank,
        )
        for r in c.rows
    ]
    names = {r.company: r.name for r in c.rows}
    lines = [
        t(
            "ans_compare",
            lang,
            metric=_metric(c.metric, lang),
            period=_period(c.period, lang),
            items=_join(items, lang),
        )
    ]
    for pair in c.pairs:
        lines.append(_pair(names[pair.a], names[pair.b], pair.p_a_above_b, lang))
    if any(r.estimate for r in c.rows):
        lines.append(t("ans_est_note", lang))
    lines.append(_source_ids([s for r in c.rows for s in r.sources], lang))
    return "\n".join(lines)


def _pair(a: str, b: str, p: float, lang: Lang) -> str:
    """P(A above B) with a verdict; flipped so the likelier order is the one stated."""
    if p < 0.5:
        a, b, p = b, a, round(1 - p, 3)
    verdict = verdict_key(order_confidence(p).level)
    return t("ans_pair", lang, a=a, b=b, p=fmt.prob(p), verdict=t(verdict, lang))


def verdict_key(level: Level) -> str:
    """The i18n key wording a rung of the confidence ladder (tools.confidence)."""
    return f"verdict_{level}"


def tiers(b: v.TiersView, lang: Lang) -> str:
    mix = [f"{LAYER_TERMS[k].name(lang)} {fmt.pct(x)}" for k, x in b.layer_mix.items()]
    key = ("self_use_inference_share", "external_supply_share")
    metrics = [f"{_metric(k, lang)} {_value(b.metrics.get(k), 'share', lang)}" for k in key]
    metrics[0] = metrics[0][0].upper() + metrics[0][1:]
    return "\n".join(
        [
            t(
                "ans_tiers",
                lang,
                name=b.name,
                period=b.period,
                mix=_join(mix, lang),
                est=_est(b.estimate, lang),
            ),
            t(
                "ans_archetype",
                lang,
                archetype=archetype(b.archetype, b.tags, lang),
                rule=b.rule.split(": ", 1)[-1],
            ),
            t("ans_metrics", lang, items=_join(metrics, lang)),
            _source_refs(b.sources, lang),
        ]
    )


def profile(p: v.ProfileView, lang: Lang, metric: str | None = None) -> str:
    lines = [
        t(
            "ans_profile",
            lang,
            name=p.name,
            tickers=", ".join(p.tickers) or p.company,
            region=p.region,
            period=p.period,
        )
    ]
    if p.description:
        lines.append(p.description)
    if metric and metric != "ai_capex_usd":
        value = _value(p.metrics.get(metric), METRICS[metric].unit, lang)
        lines.append(t("ans_metric_is", lang, metric=_metric(metric, lang), value=value))
    lines.append(_capex(p, lang))
    shares = [
        f"{input_name('allocation.' + k, lang)} {fmt.pct(f.value if isinstance(f.value, float) else None)}"
        for k, f in p.allocation.items()
    ]
    lines.append(
        t(
            "ans_allocation",
            lang,
            items=_join(shares, lang),
            archetype=archetype(p.archetype, p.tags, lang),
        )
    )
    lines.append(_source_refs(p.sources, lang))
    return "\n".join(lines)


def _capex(p: v.ProfileView, lang: Lang) -> str:
    capex = p.ai_capex
    unit = capex.unit or "USD"
    value = capex.value if isinstance(capex.value, float) else None
    span = ""
    if capex.low is not None and capex.high is not None:
        span = t(
            "ans_capex_range",
            lang,
            low=fmt.amount(capex.low, unit, lang),
            high=fmt.amount(capex.high, unit, lang),
        )
    return t(
        "ans_capex",
        lang,
        value=fmt.amount(value, unit, lang),
        usd=fmt.amount(p.ai_capex_usd, "USD", lang),
        est=_est(capex.estimate, lang),
        range=span,
    )


def history(h: v.HistoryView, lang: Lang) -> str:
    metric = _metric(h.metric, lang)
    items = [
        t(
            "ans_history_item",
            lang,
            period=p.period,
            rank=p.rank,
            of=p.of,
            value=_value(p.value, h.unit, lang),
        )
        for p in h.periods
    ]
    lines = [t("ans_history", lang, name=h.name, metric=metric, items=_join(items, lang))]
    lines += [_move(m, h.unit, metric, lang) for m in h.changes]
    if not h.changes:
        lines.append(t("ans_history_none", lang))
    return "\n".join(lines)


def _move(m: v.MoveView, unit: str, metric: str, lang: Lang) -> str:
    label = f"{m.old_period} → {m.new_period}" if m.kind == "period" else t("ans_revision", lang)
    inputs = [
        input_name(c.field, lang)
        for c in m.changed_inputs
        if c.field not in ("period", "ai_capex.currency")
    ]
    text = t(
        "ans_move",
        lang,
        label=label,
        old=m.old_rank or "–",
        new=m.new_rank or "–",
        metric=metric,
        old_value=_value(m.old_value, unit, lang),
        new_value=_value(m.new_value, unit, lang),
    )
    if m.old_archetype != m.new_archetype and m.old_archetype and m.new_archetype:
        text += t(
            "ans_archetype_change",
            lang,
            old=archetype(m.old_archetype, [], lang),
            new=archetype(m.new_archetype, [], lang),
        )
    if inputs:
        text += t("ans_inputs", lang, fields=", ".join(inputs))
    return text


def whatif(w: v.WhatIfView, lang: Lang) -> str:
    if w.sold_fraction is not None:
        change = t("ans_whatif_sell", lang, fraction=fmt.pct(w.sold_fraction))
    else:
        change = _join(
            [_override(k, x, w.capex_currency, lang) for k, x in w.overrides.items()], lang
        )
    b, s = w.baseline, w.scenario
    return "\n".join(
        [
            t(
                "ans_whatif",
                lang,
                name=w.name,
                period=w.period,
                change=change,
                metric=_metric(w.metric, lang),
                old=_value(b.value, w.unit, lang),
                new=_value(s.value, w.unit, lang),
                old_rank=b.rank,
                new_rank=s.rank,
                of=s.of,
                archetype=_archetype_move(b, s, lang),
            ),
            t("ans_whatif_note", lang),
        ]
    )


def _archetype_move(before: v.OutcomeView, after: v.OutcomeView, lang: Lang) -> str:
    old, new = (
        archetype(before.archetype, before.tags, lang),
        archetype(after.archetype, after.tags, lang),
    )
    return (
        t("ans_arch_same", lang, name=new)
        if old == new
        else t("ans_arch_moves", lang, old=old, new=new)
    )


def _override(field: str, value: float, currency: str, lang: Lang) -> str:
    shown = fmt.amount(value, currency, lang) if field == "ai_capex" else fmt.pct(value)
    return t("ans_override", lang, field=input_name(field, lang), value=shown)


_INPUT_STRINGS = {
    "ai_capex": "input_ai_capex",
    "ai_capex.currency": "alert_currency",
    "period": "col_period",
}


def input_name(field: str, lang: Lang) -> str:
    """An input's name for people: "allocation.own_inference" → "own inference" / "自用推理"."""
    group, _, key = field.rpartition(".")
    if group == "allocation":
        return t(f"alloc_{key}", lang)
    if group == "layer_mix":
        return LAYER_TERMS[key].name(lang)
    if field in _INPUT_STRINGS:
        return t(_INPUT_STRINGS[field], lang)
    return _metric(field, lang) if field in METRICS else field


def methodology(m: v.MethodologyView, lang: Lang, topics: Sequence[str] = ()) -> str:
    terms = [*m.layers, *m.metrics, *m.archetypes]
    chosen = [x for x in terms if x.id in topics] or terms
    lines = [m.thesis] if m.thesis else []
    for term in chosen:
        extra = f" ({term.formula})" if term.formula else f" ({term.rule})" if term.rule else ""
        lines.append(t("ans_term", lang, name=term.name, definition=term.definition) + extra)
    return "\n".join(lines)


def help_text(lang: Lang) -> str:
    return t("ans_help", lang)


def need_company(names: Sequence[str], lang: Lang) -> str:
    return t("ans_need_company", lang, names=_join(names, lang))
