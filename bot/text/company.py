"""What a company's tier breakdown, its profile and a list of sources say."""

from __future__ import annotations

from collections.abc import Iterable

from bot.text import fmt, terms
from bot.text.doc import Doc, Item, Line, Link, Links, Section
from bot.text.i18n import Lang, t
from tools.breakdown import Profile, TierBreakdown
from tools.models import Source
from tools.taxonomy import ARCHETYPES


def sources(items: Iterable[Source], lang: Lang, title: str | None = None) -> Links:
    """Sources by title, publisher, date and kind, linked where they have an address."""
    links = [Link(terms.source(s, lang), s.url) for s in items]
    return Links(title or t("sources_title", lang), links)


def source_list(items: Iterable[Source], lang: Lang, title: str) -> Doc:
    return Doc(title, [sources(items, lang, t("sources_title", lang))])


def _metrics(metrics: dict[str, float | None], lang: Lang) -> Section:
    items = [
        Item(terms.metric(k, lang), terms.metric_value(k, v, lang)) for k, v in metrics.items()
    ]
    return Section(t("metrics_title", lang), items)


def _archetype(b: TierBreakdown, lang: Lang) -> list[Line]:
    tags = "".join(f" + {ARCHETYPES[x].name(lang)}" for x in b.tags)
    arch = ARCHETYPES[b.archetype].name(lang)
    rule_key = "no_rule_line" if b.archetype == "unclassified" else "rule_line"
    lines = [
        Line(t("archetype_line", lang, archetype=arch, tags=tags), "strong"),
        Line(t(rule_key, lang, rule=terms.rule(b.checks, lang))),
    ]
    edge = ARCHETYPES["edge_builder"].name(lang)
    lines += [
        Line(t("tag_line", lang, tag=edge, rule=terms.rule([check], lang)))
        for check in b.tag_checks
        if check.holds
    ]
    return lines


def tiers(b: TierBreakdown, lang: Lang) -> Doc:
    flag = f" ({t('estimate_flag', lang)})" if b.estimated else ""
    doc = Doc(t("tiers_title", lang, name=terms.name(b, lang), period=b.period) + flag)
    if b.period_note:
        doc.add(Line(terms.text(b.period_note, lang), "note"))
    layers = [Item(terms.layer(k, lang), fmt.pct(v)) for k, v in b.layer_mix.items()]
    doc.add(Section(t("layers_title", lang), layers), *_archetype(b, lang))
    return doc.add(_metrics(b.metrics, lang), sources(b.sources, lang))


def _capex(p: Profile, lang: Lang) -> list[Line]:
    """AI capex in the company's currency and in USD, its range and how it was reached."""
    unit = p.ai_capex.unit or "USD"
    value = fmt.amount(p.ai_capex.value, unit, lang)
    usd = fmt.amount(p.ai_capex_usd, "USD", lang)
    flag = f" ({terms.flag(not p.ai_capex.disclosed, lang)})"
    lines = [Line(t("capex_line", lang, value=value, usd=usd, flag=flag), "strong")]
    if p.ai_capex.low is not None and p.ai_capex.high is not None:
        low, high = (fmt.amount(x, unit, lang) for x in (p.ai_capex.low, p.ai_capex.high))
        lines.append(Line(t("range_of", lang, low=low, high=high), indent=1))
    if p.ai_capex.note:
        lines.append(Line(terms.text(p.ai_capex.note, lang), "note", indent=1))
    return lines


def _allocation(p: Profile, lang: Lang) -> Section:
    items: list[Item | Line] = []
    for key, fig in p.inputs.items():
        if key.startswith("allocation."):
            span = f" ({fmt.pct_range(fig.low, fig.high)})" if fig.low is not None else ""
            value = fmt.pct(fig.value) + ("*" if not fig.disclosed else "") + span
            items.append(Item(terms.input_name(key, lang), value, terms.text(fig.note, lang)))
    return Section(f"{t('allocation_title', lang)} ({p.period})", items)


def _facts(p: Profile, lang: Lang) -> list[Section]:
    items = [
        Item(p.names.fact(key, lang), terms.fact(fact, p.names, lang), terms.text(fact.note, lang))
        for key, fact in p.facts.items()
    ]
    return [Section(f"{t('facts_title', lang)} ({p.period})", items)] if items else []


def profile(p: Profile, lang: Lang) -> Doc:
    tickers = f" ({', '.join(p.tickers)})" if p.tickers else ""
    doc = Doc(f"{terms.name(p, lang)}{tickers} · {p.region} · {p.period}")
    description = p.description_zh if lang == "zh" else p.description
    if description:
        doc.add(Line(description))
    doc.add(Line(t("periods_line", lang, periods=", ".join(p.periods))))
    archetype = terms.archetype(p.archetype, p.tags, lang)
    doc.add(
        *_capex(p, lang), Line(t("archetype_line", lang, archetype=archetype, tags=""), "strong")
    )
    doc.add(_allocation(p, lang), _metrics(p.metrics, lang), *_facts(p, lang))
    return doc.add(sources(p.sources, lang), Line(t("star_note", lang), "note"))
