"""A turn's answer in words when the LLM does not write it: the offline planner's answers and
the grounding gate's fallback.

Each result is said by bot.text, the same renderer as the matching command, drawn as chat
text; only what belongs to a conversation is said here (a company's place when the question
was about it, a what-if as a conditional sentence, lookups, definitions, errors). Every
number is a tool number formatted by bot.text.fmt, which the gate knows how to read back.

An answer's length does not grow with the data: a ranking says its top RANKED_SHOWN rows
like /rank's first page, and a list of names its first NAMES_SHOWN, each with how many more
(at 5,000 companies "rank the companies" was 540,000 characters).
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from bot.agent import views as v
from bot.agent.planner import Plan
from bot.agent.registry import Outcome
from bot.text import changes, company, terms
from bot.text import ranking as ranking_text
from bot.text import whatif as whatif_text
from bot.text.doc import Doc, Line, chat
from bot.text.i18n import Lang, t
from tools.breakdown import Profile, TierBreakdown
from tools.history import History
from tools.ranking import Comparison, Ranking
from tools.taxonomy import DEFAULT_METRIC
from tools.universe import Universe
from tools.whatif import WhatIf

RANKED_SHOWN = 10  # /rank's page
NAMES_SHOWN = 30  # the shipped 28 companies in full


def render(outcomes: Sequence[Outcome], lang: Lang, plan: Plan | None = None) -> str:
    """All results of a turn as one answer, each in the words of its kind."""
    # An LLM stuck in a loop asks for the same result again and again; say it once.
    unique = [o for i, o in enumerate(outcomes) if o.view not in [x.view for x in outcomes[:i]]]
    if plan and plan.intent == "compare" and plan.focus == "why":
        return _why_pair(unique, lang, plan)
    parts = [_say(o, lang, plan) for o in unique]
    return "\n\n".join(p for p in parts if p)


def _why_pair(outcomes: Sequence[Outcome], lang: Lang, plan: Plan) -> str:
    """The comparison, then which inputs make the gap (from the pair's tier breakdowns, which
    are fetched for this and not shown whole)."""
    breakdowns = [o.found.data for o in outcomes if isinstance(o.found.data, TierBreakdown)]
    parts = []
    for o in outcomes:
        if isinstance(o.found.data, Comparison):
            parts += [
                _say(o, lang, plan),
                chat(ranking_text.gap_inputs(o.found.data, breakdowns, lang)),
            ]
        elif not isinstance(o.found.data, TierBreakdown):
            parts.append(_say(o, lang, plan))
    return "\n\n".join(p for p in parts if p)


def _say(o: Outcome, lang: Lang, plan: Plan | None) -> str:
    data, view = o.found.data, o.view
    if data is not None:
        return chat(_result(data, view, lang, plan))
    match view:
        case v.ErrorView():
            return error(view, lang)
        case v.FindView():
            return found(view, lang)
        case v.MethodologyView():
            return methodology(view, lang, plan.topics if plan else [])
    return ""


def _result(data: BaseModel, view: BaseModel, lang: Lang, plan: Plan | None) -> Doc:
    focus = plan.companies if plan else []
    match data:
        case Ranking() if plan and plan.kind:
            return _kind_list(data, plan.kind, lang)
        case Ranking() if any(r.company in focus for r in data.rows):
            return _positions(data, focus, lang, sure=plan is not None and plan.focus == "sure")
        case Ranking():
            return _top(data, lang)
        case Comparison():
            return ranking_text.comparison(data, lang)
        case TierBreakdown():
            return company.tiers(data, lang)
        case Profile():
            return _profile(data, lang, plan.metric if plan else None)
        case History():
            return changes.history(data, lang, plan.span if plan else None)
        case WhatIf():
            sold = view.sold_fraction if isinstance(view, v.WhatIfView) else None
            return whatif_text.scenario(data, lang, sold)
    raise TypeError(f"no words for {type(data).__name__}")


def _top(r: Ranking, lang: Lang) -> Doc:
    """The ranking's first rows, as /rank's first page shows them, and how many more."""
    doc = ranking_text.ranking(r.model_copy(update={"rows": r.rows[:RANKED_SHOWN]}), lang)
    more = len(r.rows) - RANKED_SHOWN
    return doc.add(Line(t("ans_more_ranked", lang, n=more))) if more > 0 else doc


def _kind_list(r: Ranking, kind: str, lang: Lang) -> Doc:
    """'Suppliers: Alibaba, Amazon, …' — the companies of one archetype (or tag), top first."""
    names = [terms.name(row, lang) for row in r.rows if kind in (row.archetype, *row.tags)]
    kind_name = terms.archetype(kind, [], lang)
    period = r.rows[0].period if r.rows else r.period  # the ranking's own is "latest"
    if not names:
        return Doc("", [Line(t("ans_kind_none", lang, kind=kind_name, period=period))])
    line = t("ans_kind_list", lang, kind=kind_name, period=period, names=some(names, lang))
    return Doc("", [Line(line)])


def some(names: Sequence[str], lang: Lang) -> str:
    """The first NAMES_SHOWN names in running text, and how many more there are."""
    shown = terms.join(names[:NAMES_SHOWN], lang)
    more = len(names) - NAMES_SHOWN
    return t("ans_names_more", lang, names=shown, n=more) if more > 0 else shown


def _positions(r: Ranking, focus: Sequence[str], lang: Lang, *, sure: bool) -> Doc:
    """Each asked-about company's place; "how sure?" adds P(above its neighbours)."""
    blocks = []
    for c in (c for c in focus if c in _ids(r)):
        blocks += ranking_text.position(r, c, lang).blocks
        blocks += ranking_text.neighbours(r, c, lang) if sure else []
    return Doc("", blocks)


def _ids(r: Ranking) -> set[str]:
    return {row.company for row in r.rows}


def _profile(p: Profile, lang: Lang, metric: str | None) -> Doc:
    """The profile; a question about one of its metrics gets that figure first."""
    doc = company.profile(p, lang)
    if metric and metric in p.metrics:
        value = terms.metric_value(metric, p.metrics[metric], lang)
        doc.blocks.insert(
            0, Line(t("ans_metric_is", lang, metric=terms.metric(metric, lang), value=value))
        )
    return doc


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
    return t("ans_found", lang, items=terms.join(items, lang))


def methodology(m: v.MethodologyView, lang: Lang, topics: Sequence[str] = ()) -> str:
    terms_ = [*m.layers, *m.metrics, *m.archetypes]
    chosen = [x for x in terms_ if x.id in topics] or terms_
    lines = [m.thesis] if m.thesis else []
    for term in chosen:
        extra = f" ({term.formula})" if term.formula else f" ({term.rule})" if term.rule else ""
        lines.append(t("ans_term", lang, name=term.name, definition=term.definition) + extra)
    return "\n".join(lines)


def help_text(lang: Lang) -> str:
    return t("ans_help", lang)


def need_company(universe: Universe, lang: Lang) -> str:
    return t("ans_need_company", lang, names=_covered(universe, lang))


def _covered(universe: Universe, lang: Lang) -> str:
    """Some of the companies covered (names only: their figures are not loaded)."""
    return some([terms.name(c, lang) for c in universe.info.values()], lang)


# --- answered in words: subscriptions asked for in a sentence, and what the data does not cover


def in_words(plan: Plan, universe: Universe, lang: Lang) -> str:
    """A subscription's command, or an honest "not covered"; investment questions say so."""
    names = [terms.name(universe.info[c], lang) for c in plan.companies]
    if plan.intent == "subscribe":
        return _subscribe(plan, names, lang)
    if plan.intent == "unsubscribe":
        command = " ".join(["/unsubscribe", *plan.companies])
        return t("ans_unsubscribe", lang, command=command)
    match plan.reason:
        case "unknown_company":
            return t("ans_unknown_company", lang, names=_covered(universe, lang))
        case "others":
            return t("ans_subscribe_others", lang)
        case "price":
            return t("ans_no_prices", lang) + "\n" + t("not_advice", lang)
        case "advice":
            return t("ans_no_advice", lang) + "\n" + t("not_advice", lang)
    return t("ans_outside", lang)


def _subscribe(plan: Plan, names: Sequence[str], lang: Lang) -> str:
    metric = plan.metric or DEFAULT_METRIC
    extra = [metric] if metric != DEFAULT_METRIC else []
    command = " ".join(["/subscribe", *plan.companies[:1], *extra])
    if names:
        return t("ans_subscribe_company", lang, name=names[0], command=command)
    return t("ans_subscribe_ranking", lang, metric=terms.metric(metric, lang), command=command)
