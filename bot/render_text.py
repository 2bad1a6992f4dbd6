"""Plain-text renderings of tool results, for the terminal, in Chinese or English."""

from __future__ import annotations

from bot import fmt
from bot.i18n import Lang, t
from bot.table import table
from tools.breakdown import Profile, TierBreakdown
from tools.check import CheckReport
from tools.history import History, Move
from tools.models import Source
from tools.ranking import Comparison, Ranking, RankRow
from tools.store import ImportResult
from tools.taxonomy import ARCHETYPES, LAYER_TERMS, METRICS
from tools.whatif import WhatIf


def name(obj: object, lang: Lang) -> str:
    """A result's company name in the user's language."""
    return getattr(obj, "name_zh") if lang == "zh" else getattr(obj, "name")  # noqa: B009


def archetype(arch: str, tags: list[str], lang: Lang) -> str:
    label = ARCHETYPES[arch].name(lang)
    extra = [ARCHETYPES[tag].name(lang) for tag in tags]
    return " + ".join([label, *extra])


def _rank_rows(rows: list[RankRow], unit: str, lang: Lang) -> list[list[str]]:
    return [
        [
            "–" if r.rank is None else str(r.rank),
            name(r, lang),
            r.period,
            fmt.metric_value(r.value, unit, lang) + ("*" if r.estimated else ""),
            fmt.metric_range(r.p10, r.p90, unit, lang),
            "–" if r.rank_p10 is None else f"{r.rank_p10}–{r.rank_p90}",
            fmt.prob(r.above_next.p) if r.above_next else "",
            archetype(r.archetype, r.tags, lang),
        ]
        for r in rows
    ]


def _rank_headers(lang: Lang) -> list[str]:
    keys = [
        "col_rank",
        "col_company",
        "col_period",
        "col_value",
        "col_range",
        "col_rank_range",
        "col_above_next",
        "col_archetype",
    ]
    return [t(k, lang) for k in keys]


def unranked_notes(rows: list[RankRow], lang: Lang) -> list[str]:
    """Why the unranked rows (value n/a) are not ranked, once per reason."""
    return [
        t(f"reason_{reason}", lang) for reason in dict.fromkeys(r.reason for r in rows if r.reason)
    ]


def ranking(r: Ranking, lang: Lang) -> str:
    period = t("latest", lang) if r.period == "latest" else r.period
    title = t("rank_title", lang, metric=METRICS[r.metric].name(lang), period=period)
    if r.region:
        title += f" · {r.region}"
    body = table(_rank_headers(lang), _rank_rows(r.rows, r.unit, lang), right=[0, 3, 6])
    note = (
        t("estimated_note", lang, samples=r.samples, seed=r.seed)
        if any(x.estimated for x in r.rows)
        else ""
    )
    parts = [title, "", body, "", note, *unranked_notes(r.rows, lang)]
    return "\n".join(x for x in parts if x is not None).rstrip()


def _sources(sources: list[Source], lang: Lang) -> str:
    lines = [t("sources_title", lang) + ":"]
    for s in sources:
        date = f", {s.date}" if s.date else ""
        url = f" <{s.url}>" if s.url else ""
        lines.append(f"  [{s.id}] {s.title} ({s.publisher}{date}; {s.kind.value}){url}")
    return "\n".join(lines)


def tiers(b: TierBreakdown, lang: Lang) -> str:
    flag = f" ({t('estimate_flag', lang)})" if b.estimated else ""
    lines = [t("tiers_title", lang, name=name(b, lang), period=b.period) + flag]
    if b.period_note:
        lines.append(b.period_note)
    rows = [[LAYER_TERMS[k].name(lang), fmt.pct(v)] for k, v in b.layer_mix.items()]
    lines += ["", table([t("col_layer", lang), t("col_share", lang)], rows, right=[1]), ""]
    tags = "".join(f" + {ARCHETYPES[x].name(lang)}" for x in b.tags)
    lines.append(t("archetype_line", lang, archetype=ARCHETYPES[b.archetype].name(lang), tags=tags))
    rule = " & ".join(str(c) for c in b.checks)
    lines.append(
        t("no_rule_line" if b.archetype == "unclassified" else "rule_line", lang, rule=rule)
    )
    for check in b.tag_checks:
        if check.holds:
            lines.append(
                t("tag_line", lang, tag=ARCHETYPES["edge_builder"].name(lang), rule=str(check))
            )
    lines += ["", t("metrics_title", lang) + ":"]
    lines += [
        f"  {METRICS[k].name(lang)}: {fmt.metric_value(v, METRICS[k].unit, lang)}"
        for k, v in b.metrics.items()
    ]
    lines += ["", _sources(b.sources, lang)]
    return "\n".join(lines)


def profile(p: Profile, lang: Lang) -> str:
    flag = f" ({t('disclosed_flag' if p.ai_capex.disclosed else 'estimate_flag', lang)})"
    capex = fmt.amount(p.ai_capex.value, p.ai_capex.unit or "USD", lang)
    lines = [
        t(
            "profile_title",
            lang,
            name=name(p, lang),
            tickers=", ".join(p.tickers),
            region=p.region,
            period=p.period,
        ),
        (p.description_zh if lang == "zh" else p.description) or "",
        t("periods_line", lang, periods=", ".join(p.periods)),
        "",
        t("capex_line", lang, value=capex, usd=fmt.amount(p.ai_capex_usd, "USD", lang), flag=flag),
    ]
    if p.ai_capex.low is not None and p.ai_capex.high is not None:
        unit = p.ai_capex.unit or "USD"
        lines.append(
            "  "
            + t(
                "range_of",
                lang,
                low=fmt.amount(p.ai_capex.low, unit, lang),
                high=fmt.amount(p.ai_capex.high, unit, lang),
            )
        )
    if p.ai_capex.note:
        lines.append(f"  {p.ai_capex.note}")
    lines.append(t("archetype_line", lang, archetype=archetype(p.archetype, p.tags, lang), tags=""))
    lines += ["", t("allocation_title", lang) + ":"]
    for key, fig in p.inputs.items():
        if key.startswith("allocation."):
            span = f" ({fmt.pct_range(fig.low, fig.high)})" if fig.low is not None else ""
            lines.append(f"  {key.split('.')[1]}: {fmt.pct(fig.value)}{span}")
    lines += ["", t("metrics_title", lang) + ":"]
    lines += [
        f"  {METRICS[k].name(lang)}: {fmt.metric_value(v, METRICS[k].unit, lang)}"
        for k, v in p.metrics.items()
    ]
    if p.facts:
        lines += ["", t("facts_title", lang) + ":"]
        for key, fact in p.facts.items():
            value = (
                fmt.amount(fact.value, fact.unit, lang)
                if isinstance(fact.value, float) and fact.unit in fmt.CURRENCY_SYMBOL
                else f"{fact.value:,}"
                if isinstance(fact.value, float)
                else fact.value
            )
            unit = "" if fact.unit in fmt.CURRENCY_SYMBOL or not fact.unit else f" {fact.unit}"
            lines.append(f"  {key}: {value}{unit}")
    lines += ["", _sources(p.sources, lang)]
    return "\n".join(lines)


def comparison(c: Comparison, lang: Lang) -> str:
    unit = METRICS[c.metric].unit
    lines = [t("compare_title", lang, metric=METRICS[c.metric].name(lang)), ""]
    lines.append(table(_rank_headers(lang), _rank_rows(c.rows, unit, lang), right=[0, 3, 6]))
    lines += ["", *unranked_notes(c.rows, lang)]
    names = {r.company: name(r, lang) for r in c.rows}
    for p in c.pairs:
        lines.append(t("p_above_line", lang, a=names[p.leader], b=names[p.other], p=fmt.prob(p.p)))
    return "\n".join(lines)


def move(m: Move, metric: str, lang: Lang, label: str) -> str:
    unit = METRICS[metric].unit
    lines = [
        t(
            "move_line",
            lang,
            label=label,
            old=m.old_rank or "–",
            new=m.new_rank or "–",
            metric=METRICS[metric].name(lang),
            old_value=fmt.metric_value(m.old_value, unit, lang),
            new_value=fmt.metric_value(m.new_value, unit, lang),
        )
    ]
    if "archetype" in m.kinds:
        lines.append(
            "  "
            + t(
                "archetype_change",
                lang,
                old=ARCHETYPES[m.old_archetype or "unclassified"].name(lang),
                new=ARCHETYPES[m.new_archetype or "unclassified"].name(lang),
            )
        )
    fields = [c.field for c in m.changes if not c.field.endswith((".low", ".high"))]
    if fields:
        lines.append("  " + t("changed_inputs", lang, fields=", ".join(fields)))
    if m.passed:
        items = ", ".join(f"{p.company} {fmt.prob(p.p)}" for p in m.passed)
        lines.append("  " + t("passed_line", lang, items=items))
    return "\n".join(lines)


def history(h: History, lang: Lang) -> str:
    unit = METRICS[h.metric].unit
    lines = [t("history_title", lang, name=name(h, lang), metric=METRICS[h.metric].name(lang)), ""]
    rows = [
        [
            p.period,
            f"{p.rank}/{p.of}",
            fmt.metric_value(p.value, unit, lang),
            ARCHETYPES[p.archetype].name(lang),
        ]
        for p in h.periods
    ]
    headers = [
        t("col_period", lang),
        t("col_rank", lang),
        t("col_value", lang),
        t("col_archetype", lang),
    ]
    lines += [table(headers, rows, right=[1, 2]), "", t("period_changes_title", lang) + ":"]
    lines += [
        move(m, h.metric, lang, f"{m.old_period} → {m.new_period}") for m in h.period_changes
    ] or ["  " + t("none", lang)]
    lines += ["", t("revision_changes_title", lang) + ":"]
    lines += [move(m, h.metric, lang, "rev") for m in h.revisions] or ["  " + t("none", lang)]
    return "\n".join(lines)


def whatif(w: WhatIf, lang: Lang) -> str:
    unit = METRICS[w.metric].unit
    items = ", ".join(
        f"{k}={fmt.pct(v) if k != 'ai_capex' else fmt.amount(v)}" for k, v in w.overrides.items()
    )
    headers = ["", t("col_rank", lang), t("col_value", lang), t("col_archetype", lang)]
    rows = [
        [
            t(label, lang),
            f"{o.rank}/{o.of}",
            fmt.metric_value(o.value, unit, lang),
            archetype(o.archetype, o.tags, lang),
        ]
        for label, o in (("baseline", w.baseline), ("scenario", w.scenario))
    ]
    return "\n".join(
        [
            t("whatif_title", lang, name=name(w, lang), period=w.period),
            t("overrides_line", lang, items=items),
            "",
            table(headers, rows, right=[1, 2]),
            "",
            t("whatif_note", lang),
        ]
    )


def source_list(sources: list[Source], lang: Lang, title: str) -> str:
    return title + "\n" + _sources(sources, lang).split("\n", 1)[-1]


MOVES_SHOWN = 15  # a big import can move thousands; --json has them all


def import_result(result: ImportResult, moves: list[Move], metric: str, lang: Lang) -> str:
    if result.revision is None:
        return t("import_same", lang)
    lines = [t("import_done", lang, revision=result.revision, n=len(result.changes))]
    lines += [f"  {c}" for c in result.changes[:20]]
    if len(result.changes) > 20:
        lines.append(f"  … +{len(result.changes) - 20}")
    lines.append("")
    added = [m for m in moves if m.old_rank is None]
    moved = [m for m in moves if m.old_rank is not None]
    if added:
        lines.append(
            t(
                "companies_added",
                lang,
                n=len(added),
                names=", ".join(name(m, lang) for m in added[:10])
                + (" …" if len(added) > 10 else ""),
            )
        )
    if moved:
        lines.append(t("ranking_changes", lang))
        lines += [move(m, metric, lang, name(m, lang)) for m in moved[:MOVES_SHOWN]]
        if len(moved) > MOVES_SHOWN:
            lines.append(f"  … +{len(moved) - MOVES_SHOWN}")
    elif not added:
        lines.append(t("no_ranking_changes", lang))
    return "\n".join(lines)


def check_report(r: CheckReport, lang: Lang) -> str:
    lines = [
        t(
            "check_title",
            lang,
            companies=r.companies,
            sources=r.sources,
            errors=len(r.errors),
            warnings=len(r.findings) - len(r.errors),
        )
    ]
    for f in r.findings:
        lines.append(f"  {f.level.upper()} [{f.kind}] {f.where}: {f.message}")
    lines += ["", t("neighbours_title", lang)]
    lines += [f"  P({n.upper} > {n.lower}) = {fmt.prob(n.p_above)}" for n in r.neighbours]
    return "\n".join(lines)
