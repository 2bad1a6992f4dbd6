"""Telegram HTML renderings of tool results, in Chinese or English.

Every dynamic string goes through `esc`; markup is only ever added around escaped text.
Layouts are lists rather than tables: phone screens are narrow and monospace alignment of
Chinese text differs between Telegram clients. Numbers come from tool results via bot.fmt.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from bot import fmt, render_text
from bot.i18n import Lang, t
from bot.subscriptions import Subscription
from tools.archetypes import rules as archetype_rules
from tools.breakdown import Profile, TierBreakdown
from tools.history import History, Move
from tools.models import Company, Source, Thresholds
from tools.ranking import Comparison, Ranking, RankRow
from tools.store import ImportResult
from tools.taxonomy import ARCHETYPES, LAYER_TERMS, METRICS
from tools.uncertainty import DEFAULT_SAMPLES, DEFAULT_SEED
from tools.whatif import WhatIf

COMMANDS = (
    "rank",
    "tiers",
    "company",
    "compare",
    "history",
    "whatif",
    "sources",
    "methodology",
    "subscribe",
    "unsubscribe",
    "subscriptions",
    "lang",
    "help",
)


def esc(text: object) -> str:
    """Text made safe for Telegram's HTML parse mode (outside attributes)."""
    return html.escape(str(text), quote=False)


def _name(obj: object, lang: Lang) -> str:
    return esc(render_text.name(obj, lang))


def _star(estimated: bool) -> str:
    return "*" if estimated else ""


def _rank_row(r: RankRow, unit: str, lang: Lang) -> str:
    value = fmt.metric_value(r.value, unit, lang) + _star(r.estimated)
    spread = fmt.metric_range(r.p10, r.p90, unit, lang)
    detail = t(
        "rank_detail",
        lang,
        archetype=render_text.archetype(r.archetype, r.tags, lang),
        ranks="–" if r.rank_p10 is None else f"{r.rank_p10}–{r.rank_p90}",
    )
    if r.above_next is not None:
        detail += " · " + t("rank_p_next", lang, p=fmt.prob(r.above_next.p))
    head = f"{r.rank or '–'}. <b>{_name(r, lang)}</b> · {esc(r.period)} — <b>{esc(value)}</b>"
    return f"{head} ({esc(t('col_range', lang))} {esc(spread)})\n    <i>{esc(detail)}</i>"


def ranking(r: Ranking, lang: Lang) -> str:
    period = t("latest", lang) if r.period == "latest" else r.period
    title = t("rank_title", lang, metric=METRICS[r.metric].name(lang), period=period)
    if r.region:
        title += f" · {r.region}"
    lines = [f"<b>{esc(title)}</b>", ""]
    lines += [_rank_row(row, r.unit, lang) for row in r.rows]
    if any(x.estimated for x in r.rows):
        lines += ["", f"<i>{esc(t('estimated_note', lang, samples=r.samples, seed=r.seed))}</i>"]
    lines += [f"<i>{esc(note)}</i>" for note in render_text.unranked_notes(r.rows, lang)]
    return "\n".join(lines)


def _source(s: Source) -> str:
    date = f", {s.date}" if s.date else ""
    title = esc(s.title)
    if s.url and s.url.startswith(("https://", "http://")):
        title = f'<a href="{html.escape(s.url, quote=True)}">{title}</a>'
    return f"• [{esc(s.id)}] {title} ({esc(s.publisher)}{esc(date)}; {esc(s.kind.value)})"


def _sources(sources: Iterable[Source], lang: Lang) -> list[str]:
    return [f"<b>{esc(t('sources_title', lang))}</b>", *(_source(s) for s in sources)]


def _metrics(metrics: dict[str, float | None], lang: Lang) -> list[str]:
    lines = [f"<b>{esc(t('metrics_title', lang))}</b>"]
    for key, value in metrics.items():
        term = METRICS[key]
        lines.append(f"• {esc(term.name(lang))}: {esc(fmt.metric_value(value, term.unit, lang))}")
    return lines


def _archetype_lines(b: TierBreakdown, lang: Lang) -> list[str]:
    tags = "".join(f" + {ARCHETYPES[x].name(lang)}" for x in b.tags)
    line = t("archetype_line", lang, archetype=ARCHETYPES[b.archetype].name(lang), tags=tags)
    rule_key = "no_rule_line" if b.archetype == "unclassified" else "rule_line"
    rule = " & ".join(str(c) for c in b.checks)
    lines = [f"<b>{esc(line)}</b>", esc(t(rule_key, lang, rule="")) + f"<code>{esc(rule)}</code>"]
    for check in b.tag_checks:
        if check.holds:
            tag = ARCHETYPES["edge_builder"].name(lang)
            lines.append(esc(t("tag_line", lang, tag=tag, rule=str(check))))
    return lines


def tiers(b: TierBreakdown, lang: Lang) -> str:
    flag = f" ({t('estimate_flag', lang)})" if b.estimated else ""
    lines = [
        f"<b>{esc(t('tiers_title', lang, name=render_text.name(b, lang), period=b.period))}</b>"
    ]
    lines[0] += esc(flag)
    if b.period_note:
        lines.append(f"<i>{esc(b.period_note)}</i>")
    lines += ["", f"<b>{esc(t('layers_title', lang))}</b>"]
    lines += [
        f"• {esc(LAYER_TERMS[k].name(lang))}: {esc(fmt.pct(v))}" for k, v in b.layer_mix.items()
    ]
    lines += ["", *_archetype_lines(b, lang), "", *_metrics(b.metrics, lang)]
    lines += ["", *_sources(b.sources, lang)]
    return "\n".join(lines)


def _capex(p: Profile, lang: Lang) -> list[str]:
    flag = f" ({t('disclosed_flag' if p.ai_capex.disclosed else 'estimate_flag', lang)})"
    unit = p.ai_capex.unit or "USD"
    value = fmt.amount(p.ai_capex.value, unit, lang)
    usd = fmt.amount(p.ai_capex_usd, "USD", lang)
    lines = [esc(t("capex_line", lang, value=value, usd=usd, flag=flag) + f" · {p.period}")]
    if p.ai_capex.low is not None and p.ai_capex.high is not None:
        low, high = (fmt.amount(x, unit, lang) for x in (p.ai_capex.low, p.ai_capex.high))
        lines.append("    " + esc(t("range_of", lang, low=low, high=high)))
    if p.ai_capex.note:
        lines.append(f"    <i>{esc(p.ai_capex.note)}</i>")
    return lines


def _inputs(p: Profile, lang: Lang) -> list[str]:
    lines = [f"<b>{esc(t('allocation_title', lang))}</b> ({esc(p.period)})"]
    for key, fig in p.inputs.items():
        if key.startswith("allocation."):
            span = f" ({fmt.pct_range(fig.low, fig.high)})" if fig.low is not None else ""
            label = t("alloc_" + key.split(".")[1], lang)
            lines.append(
                f"• {esc(label)}: {esc(fmt.pct(fig.value) + _star(not fig.disclosed))}{esc(span)}"
            )
            if fig.note:
                lines.append(f"    <i>{esc(fig.note)}</i>")
    return lines


def _facts(p: Profile, lang: Lang) -> list[str]:
    if not p.facts:
        return []
    lines = ["", f"<b>{esc(t('facts_title', lang))}</b> ({esc(p.period)})"]
    for key, fact in p.facts.items():
        if isinstance(fact.value, float) and fact.unit in fmt.CURRENCY_SYMBOL:
            value = fmt.amount(fact.value, fact.unit, lang)
        elif isinstance(fact.value, float):
            value = f"{fact.value:,.0f}" + (f" {fact.unit}" if fact.unit else "")
        else:
            value = fact.value
        lines.append(f"• {esc(key)}: {esc(value)}")
    return lines


def profile(p: Profile, lang: Lang) -> str:
    tickers = f" ({', '.join(p.tickers)})" if p.tickers else ""
    title = f"{render_text.name(p, lang)}{tickers} · {p.region} · {p.period}"
    description = p.description_zh if lang == "zh" else p.description
    lines = [f"<b>{esc(title)}</b>"]
    if description:
        lines.append(esc(description))
    lines.append(esc(t("periods_line", lang, periods=", ".join(p.periods))))
    archetype = render_text.archetype(p.archetype, p.tags, lang)
    lines += ["", *_capex(p, lang), esc(t("archetype_line", lang, archetype=archetype, tags=""))]
    lines += ["", *_inputs(p, lang), "", *_metrics(p.metrics, lang), *_facts(p, lang)]
    lines += ["", *_sources(p.sources, lang), "", f"<i>{esc(t('star_note', lang))}</i>"]
    return "\n".join(lines)


def comparison(c: Comparison, lang: Lang) -> str:
    unit = METRICS[c.metric].unit
    lines = [f"<b>{esc(t('compare_title', lang, metric=METRICS[c.metric].name(lang)))}</b>", ""]
    lines += [_rank_row(row, unit, lang) for row in c.rows]
    lines += [f"<i>{esc(note)}</i>" for note in render_text.unranked_notes(c.rows, lang)]
    names = {r.company: render_text.name(r, lang) for r in c.rows}
    lines.append("")
    for p in c.pairs:
        text = t("p_above_line", lang, a=names[p.leader], b=names[p.other], p=fmt.prob(p.p))
        lines.append(f"• {esc(text)}")
    return "\n".join(lines)


def _moves(moves: list[Move], metric: str, lang: Lang, label: str | None) -> list[str]:
    if not moves:
        return [esc(t("none", lang))]
    return [
        esc(render_text.move(m, metric, lang, label or f"{m.old_period} → {m.new_period}"))
        for m in moves
    ]


def history(h: History, lang: Lang) -> str:
    unit = METRICS[h.metric].unit
    title = t(
        "history_title", lang, name=render_text.name(h, lang), metric=METRICS[h.metric].name(lang)
    )
    lines = [f"<b>{esc(title)}</b>", ""]
    for p in h.periods:
        value = fmt.metric_value(p.value, unit, lang)
        rank = t("rank_of", lang, rank=p.rank, of=p.of)
        arch = ARCHETYPES[p.archetype].name(lang)
        lines.append(f"• <b>{esc(p.period)}</b>: {esc(rank)} · {esc(value)} · {esc(arch)}")
    lines += ["", f"<b>{esc(t('period_changes_title', lang))}</b>"]
    lines += _moves(h.period_changes, h.metric, lang, None)
    lines += ["", f"<b>{esc(t('revision_changes_title', lang))}</b>"]
    lines += _moves(h.revisions, h.metric, lang, t("revision_label", lang))
    return "\n".join(lines)


def whatif(w: WhatIf, lang: Lang) -> str:
    unit = METRICS[w.metric].unit
    items = ", ".join(
        f"{k}={fmt.pct(v) if k != 'ai_capex' else fmt.amount(v)}" for k, v in w.overrides.items()
    )
    lines = [
        f"<b>{esc(t('whatif_title', lang, name=render_text.name(w, lang), period=w.period))}</b>",
        esc(t("overrides_line", lang, items=items)),
        "",
    ]
    for label, o in (("baseline", w.baseline), ("scenario", w.scenario)):
        rank = t("rank_of", lang, rank=o.rank, of=o.of)
        value = fmt.metric_value(o.value, unit, lang)
        arch = render_text.archetype(o.archetype, o.tags, lang)
        lines.append(f"• <b>{esc(t(label, lang))}</b>: {esc(rank)} · {esc(value)} · {esc(arch)}")
    lines += ["", f"<i>{esc(t('whatif_note', lang))}</i>"]
    return "\n".join(lines)


def source_list(sources: list[Source], lang: Lang, title: str) -> str:
    return "\n".join([f"<b>{esc(title)}</b>", *(_source(s) for s in sources)])


def import_result(result: ImportResult, moves: list[Move], metric: str, lang: Lang) -> str:
    return esc(render_text.import_result(result, moves, metric, lang))


def import_refused(problems: Iterable[object], lang: Lang) -> str:
    lines = [f"<b>{esc(t('import_failed', lang))}</b>"]
    lines += [f"• <code>{esc(p)}</code>" for p in problems]
    return "\n".join(lines)


def companies(items: Iterable[Company], lang: Lang) -> str:
    rows = [c for c in items]
    lines = [f"<b>{esc(t('companies_title', lang, n=len(rows)))}</b>"]
    for c in rows:
        name = c.name.zh if lang == "zh" else c.name.en
        tickers = f" ({', '.join(c.tickers)})" if c.tickers else ""
        lines.append(f"• {esc(name)}{esc(tickers)} · <code>{esc(c.id)}</code>")
    return "\n".join(lines)


def _command_lines(lang: Lang) -> list[str]:
    return [f"/{name} — {esc(t('cmd_' + name, lang))}" for name in COMMANDS]


def start(lang: Lang, bot_username: str) -> str:
    lines = [f"<b>{esc(t('start_intro', lang))}</b>", "", f"<i>{esc(t('thesis', lang))}</i>", ""]
    lines += [esc(t("start_numbers", lang)), "", f"<b>{esc(t('help_commands_title', lang))}</b>"]
    lines += _command_lines(lang)
    lines += ["", esc(t("help_free_text", lang)), esc(t("help_groups", lang, bot=bot_username))]
    return "\n".join(lines)


def help_text(lang: Lang, bot_username: str) -> str:
    lines = [f"<b>{esc(t('help_commands_title', lang))}</b>", *_command_lines(lang), ""]
    lines += [esc(t("help_examples", lang)), ""]
    lines += [esc(t("help_free_text", lang)), esc(t("help_groups", lang, bot=bot_username))]
    return "\n".join(lines)


def methodology(thresholds: Thresholds, lang: Lang) -> str:
    lines = [f"<b>{esc(t('methodology_title', lang))}</b>", "", f"<i>{esc(t('thesis', lang))}</i>"]
    lines += ["", f"<b>{esc(t('method_layers_title', lang))}</b>"]
    for i, term in enumerate(LAYER_TERMS.values(), 1):
        lines.append(f"{i}. <b>{esc(term.name(lang))}</b>: {esc(term.definition(lang))}")
    lines += ["", f"<b>{esc(t('metrics_title', lang))}</b>"]
    for metric in METRICS.values():
        lines.append(
            f"• <b>{esc(metric.name(lang))}</b> <code>{esc(metric.formula)}</code>: "
            + esc(metric.definition(lang))
        )
    lines += ["", f"<b>{esc(t('method_archetypes_title', lang))}</b>"]
    lines += [f"• {esc(rule)}" for rule in _rules(thresholds, lang)]
    lines += ["", esc(t("method_uncertainty", lang, samples=DEFAULT_SAMPLES, seed=DEFAULT_SEED))]
    lines += [esc(t("method_estimates", lang))]
    return "\n".join(lines)


def _rules(th: Thresholds, lang: Lang) -> list[str]:
    """The archetype rules in evaluation order, with the thresholds in force (from the data)."""
    ops = {">=": "≥", "<": "<"}
    lines = [
        f"{ARCHETYPES[name].name(lang)}: "
        + " & ".join(f"{field} {ops[op]} {limit:g}" for field, op, limit in checks)
        for name, checks in archetype_rules(th).items()
    ]
    edge = ARCHETYPES["edge_builder"].name(lang)
    return [*lines, f"{edge}: layer_mix.edge ≥ {th.edge_builder_edge_min:g}"]


def subscriptions(items: list[Subscription], names: dict[str, str], lang: Lang) -> str:
    if not items:
        return esc(t("no_subscriptions", lang))
    lines = [f"<b>{esc(t('subscriptions_title', lang))}</b>"]
    for s in items:
        metric = METRICS[s.metric].name(lang) if s.metric in METRICS else s.metric
        if s.company is None:
            lines.append("• " + esc(t("sub_ranking_item", lang, metric=metric)))
        else:
            name = names.get(s.company, s.company)
            lines.append("• " + esc(t("sub_company_item", lang, name=name, metric=metric)))
    return "\n".join(lines)
