"""The offline planner: a question (and the chat's last plan) → an intent and the tool calls
that answer it. Used without an LLM, and in LLM mode to prefetch results when it is confident.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from bot.agent import intents as kw
from bot.agent import scope
from bot.agent.intents import Focus, Intent
from bot.agent.periods import period_of, span_of
from bot.agent.scope import OutOfScope
from bot.agent.whatifs import WhatIfSpec, whatif_of
from bot.text.i18n import Lang
from tools.resolve import Resolver
from tools.taxonomy import DEFAULT_METRIC
from tools.universe import Universe

MAX_COMPANIES = 4  # a compare beyond this is a ranking; more per-company calls cost prompt
# Answered in set words, with the LLM or without: there is nothing in the data to look up, and
# a subscription or a refusal must not depend on how a model phrases it.
ANSWERED_IN_WORDS: frozenset[Intent] = frozenset({"subscribe", "unsubscribe", "out_of_scope"})
# What a follow-up what-if ("what if it doubled") changes: the input behind the last metric.
METRIC_INPUT = {
    "ai_capex_usd": "ai_capex",
    "self_use_inference_usd": "ai_capex",
    "external_supply_share": "external_supply_share",
    "self_use_inference_share": "own_inference",
}


class Plan(BaseModel):
    intent: Intent
    companies: list[str] = []
    metric: str | None = None
    region: str | None = None
    period: str | None = None
    span: list[str] | None = None  # [from, to]: the periods a history question covers
    top: int | None = None
    whatif: WhatIfSpec | None = None
    topics: list[str] = []
    kind: str | None = None  # the archetype a "list the suppliers" question asks for
    reason: OutOfScope | None = None  # why an out_of_scope question is not answered
    focus: Focus | None = None  # "why is it so?" / "how sure is it?" about the answer
    confident: bool = True


def question_lang(text: str) -> Lang:
    """Chinese when the question has any CJK character, else English."""
    return (
        "zh"
        if any(unicodedata.east_asian_width(ch) in "WF" for ch in text if ch.isalpha())
        else "en"
    )


def plan(
    question: str, resolver: Resolver, previous: Plan | None = None, periods: Sequence[str] = ()
) -> Plan:
    """Read the question; a short one with no intent of its own continues the previous plan.
    `periods`: the data's, sorted, which "since 2024" and "这两年" count to.

    Checked in order: out of scope, subscriptions, a company the data lacks, a follow-up, help,
    a list by kind, then the question's own intent."""
    text = kw.fold(question)
    named = _named(question, text, resolver)
    intent = kw.intent_of(kw.without_followup(text))
    span = span_of(text, periods)
    if span and intent in (None, "rank", "profile"):
        intent = "history"  # "从2024到2026排名怎么变" / "Baidu over the last two years"
    back = previous is not None and not named and _points_back(text, intent)
    companies, intent = _subject(text, named, intent, previous, back)
    slots: dict[str, Any] = {
        "companies": companies,
        "metric": kw.metric_of(text),
        "region": kw.region_of(question),
        "period": None if span else period_of(text),
        "span": span,
        "top": kw.top_of(text),
        "focus": kw.focus_of(text),
    }
    if reason := scope.out_of_scope(text):
        return Plan(intent="out_of_scope", companies=named, reason=reason)
    if wanted := scope.subscription_of(text):
        return Plan(intent=wanted, companies=companies[:1], metric=slots["metric"])
    if not named and _names_unknown(question, text, resolver):
        return Plan(intent="out_of_scope", reason="unknown_company")
    if intent is None and previous is not None and kw.is_followup(text) and _any(slots):
        return _continue(previous, slots)
    if not companies and kw.is_help(text):
        return Plan(intent="help")
    if not companies and (kind := kw.listed_kind(text)):
        return Plan(intent="tiers", kind=kind, period=slots["period"], region=slots["region"])
    default_field = METRIC_INPUT.get(previous.metric or "") if back and previous else None
    return _fresh(intent, text, slots, default_field)


def periods_of(universe: Universe) -> list[str]:
    """The periods the data has, sorted (from the ranking's rows: reading every company's
    snapshots for this took 7.5 s at 5,000 companies)."""
    return universe.periods()


def _named(question: str, text: str, resolver: Resolver) -> list[str]:
    """The companies a question names. Also looked up in the question as typed: folding to
    simplified characters turns a traditional alias (輝達) into a name nobody writes (辉达)."""
    folded = resolver.find_in(text, typos=True)
    typed = resolver.find_in(question)
    return list(dict.fromkeys([*folded, *typed]))[:MAX_COMPANIES]


def _points_back(text: str, intent: Intent | None) -> bool:
    """Whether a question without a company of its own is about the previous turn's: a
    pronoun, "how sure is that?", or a short follow-up whose intent needs a company ("这两年
    有啥变化", "如果翻倍呢"; not "边缘推理呢?", a term's definition)."""
    if kw.refers_back(text) or kw.asks_about_the_last(text):
        return True
    if intent not in kw.NEEDS_COMPANY or not kw.is_followup(text) or kw.listed_kind(text):
        return False
    return intent != "tiers" or not kw.terms_of(text)


def _subject(
    text: str, named: list[str], intent: Intent | None, previous: Plan | None, back: bool
) -> tuple[list[str], Intent | None]:
    """Who the question is about, with the intent a follow-up comparison implies.

    "它的分层" / "这两年有啥变化" (`back`): the previous turn's companies; "跟字节比呢" /
    "vs Alibaba?": the previous ones against the new one; "why is Meta ahead?" after Meta vs
    Alphabet: the same comparison, Meta first."""
    if previous is None:
        return named, intent
    if back:
        return previous.companies, intent
    if _against(text, named, previous.companies):
        return list(dict.fromkeys([*previous.companies, *named]))[:MAX_COMPANIES], "compare"
    if _within_compare(text, named, previous):
        return list(dict.fromkeys([*named, *previous.companies])), "compare"
    return named, intent


def _against(text: str, named: list[str], before: list[str]) -> bool:
    """ "跟字节比呢" / "vs Alibaba?": one new company compared with the previous turn's."""
    return len(named) == 1 and bool(before) and named[0] not in before and kw.compares_with(text)


def _within_compare(text: str, named: list[str], previous: Plan) -> bool:
    """One of the companies just compared, asked about in comparative words."""
    if previous.intent != "compare" or not named or not set(named) <= set(previous.companies):
        return False
    return kw.has(text, kw.COMPARE_WORDS)


def _names_unknown(question: str, text: str, resolver: Resolver) -> bool:
    """A company is named ("Where does OpenAI rank?", "蔚来的capex", "台积电的自用推理占比",
    "vs bilibili") that the data lacks; definitions name terms, not companies."""
    if kw.intent_of(text) == "methodology":
        return False
    if kw.unknown_zh_subject(text):  # its subject is checked against the term words
        return True
    unknown_rival = any(not resolver.find_in(w) for w in kw.compared_names(text))
    return not kw.terms_of(text) and (kw.names_someone(question) or unknown_rival)


def _any(slots: dict[str, Any]) -> bool:
    return any(value for value in slots.values())


def _fresh(
    intent: Intent | None, text: str, slots: dict[str, Any], default_field: str | None
) -> Plan:
    companies = slots["companies"]
    terms = kw.terms_of(text)
    chosen = _choose(intent, text, companies, terms)
    if chosen != "rank" and not companies and slots["metric"] and kw.is_superlative(text):
        chosen = "rank"  # "谁卖水最多" / "who spends the most": the top of that metric
    if chosen in ("profile", "help") and not companies and slots["top"]:
        chosen = "rank"  # "美股AI capex前三": the first N of a ranking
    if chosen == "rank" and len(companies) == 1 and slots["focus"] == "why":
        chosen = "profile"  # "why is Salesforce first?": the inputs that put it there
    clean = {k: v for k, v in slots.items() if v}
    whatif = whatif_of(text, default_field) if chosen == "whatif" else None
    if whatif is not None:
        # "如果阿里的对外算力占比降到20%,它会排第几?" asks for its place in the thesis ranking:
        # the metric word names what changes, not what to rank by. Capex moves no share, so
        # a capex what-if is ranked by what capex buys: self-use inference in dollars.
        clean["metric"] = "self_use_inference_usd" if whatif.field == "ai_capex" else None
    confident = _confident(chosen, intent, companies, whatif)
    topics = _topics(terms, intent) if chosen == "methodology" else []
    return Plan(intent=chosen, whatif=whatif, topics=topics, confident=confident, **clean)


def _choose(intent: Intent | None, text: str, companies: list[str], terms: list[str]) -> Intent:
    """The keyword intent, corrected by what the question names."""
    if intent in ("whatif", "history"):
        return intent
    if intent == "profile" and kw.has(text, kw.SOURCE_WORDS):
        return "profile"  # the sources are listed per company, however many are named
    if len(companies) >= 2 and (intent != "tiers" or kw.has(text, kw.COMPARE_WORDS)):
        return "compare"
    if not companies and (intent == "tiers" or (intent in ("profile", None) and terms)):
        return "methodology"  # "什么是卖水者?" asks about a term, not a company
    if intent == "methodology" and companies:
        return "profile"
    if intent == "compare":
        return "rank"  # fewer than two companies: their place in the ranking
    if intent is None:
        if companies:
            return "profile"
        return "rank" if kw.metric_of(text) or kw.top_of(text) else "help"
    return intent


def _confident(
    chosen: Intent, intent: Intent | None, companies: list[str], whatif: WhatIfSpec | None
) -> bool:
    if chosen in kw.NEEDS_COMPANY and not companies:
        return False
    if chosen == "whatif" and whatif is None:
        return False
    return intent is not None or chosen != "help"


def _continue(previous: Plan, slots: dict[str, Any]) -> Plan:
    """'那腾讯呢?' / 'and Tencent?': the previous question again with what this one names."""
    update = {k: v for k, v in slots.items() if v and k != "companies"}
    new = slots["companies"]
    if new:
        keep = previous.companies if previous.intent == "compare" else []
        update["companies"] = list(dict.fromkeys([*keep, *new]))[:MAX_COMPANIES]
    return previous.model_copy(update=update)


# --- plan → tool calls (the same tools the LLM calls) ---


def tool_calls(p: Plan, universe: Universe) -> list[tuple[str, dict[str, Any]]]:
    """The tool calls that answer a plan, as (tool name, arguments)."""
    metric = p.metric or DEFAULT_METRIC
    period = {"period": p.period} if p.period else {}
    one = {"tiers": "tier_breakdown", "profile": "company_profile"}
    if p.intent == "tiers" and p.kind:  # "list the suppliers": the ranking holds the archetypes
        region = {"region": p.region} if p.region else {}
        return [("rank", {"metric": DEFAULT_METRIC, **region, **period})]
    if p.intent in one:
        return [(one[p.intent], {"company": c, **period}) for c in p.companies]
    if p.intent == "history":
        return [("history", {"company": c, "metric": metric}) for c in p.companies]
    if p.intent == "rank":
        top = {"top": p.top} if p.top and not p.companies else {}
        region = {"region": p.region} if p.region else {}
        return [("rank", {"metric": metric, **region, **period, **top})]
    if p.intent == "compare" and len(p.companies) >= 2:
        calls = [("compare", {"companies": p.companies, "metric": metric, **period})]
        if p.focus == "why":  # which inputs make the gap: the pair's breakdowns beside it
            calls += [("tier_breakdown", {"company": c, **period}) for c in p.companies[:2]]
        return calls
    if p.intent == "whatif" and p.whatif is not None:
        return [("what_if", _whatif_args(p, p.whatif, c, universe)) for c in p.companies]
    if p.intent == "methodology":
        return [("methodology", {"topic": _topic(p.topics)})]
    return []


def _whatif_args(p: Plan, spec: WhatIfSpec, company: str, universe: Universe) -> dict[str, Any]:
    args: dict[str, Any] = {"company": company, "metric": p.metric or DEFAULT_METRIC}
    if p.period:
        args["period"] = p.period
    if spec.op == "sell":
        return {**args, "sell_own_inference": spec.value}
    value = spec.value
    if spec.op == "scale":
        value *= _current(universe, company, p.period, spec.field)
    if spec.op == "add":  # "降低10个百分点": points off the stored share
        value = max(0.0, value + _current(universe, company, p.period, spec.field))
    return {**args, "overrides": {spec.field: value}}


def _current(universe: Universe, company: str, period: str | None, field: str) -> float:
    """The stored value a scaling what-if starts from."""
    snap = universe.snapshot(universe.companies[company], period)
    if field == "ai_capex":
        return snap.ai_capex.value
    if field == "external_supply_share":
        a = snap.allocation
        return a.external_iaas.value + a.external_maas.value
    group, _, name = field.rpartition(".")
    shares = snap.layer_mix.shares() if group == "layer_mix" else snap.allocation.shares()
    return shares[name].value


# The methodology tool's topics and the term ids each covers (the rest are metrics).
TOPIC_GROUPS = {
    "thesis": frozenset({"thesis"}),
    "layers": frozenset({"iaas", "maas", "solutions", "edge"}),
    "archetypes": frozenset({"supplier", "dual", "self_user", "edge_builder"}),
}


def _topics(terms: list[str], intent: Intent | None) -> list[str]:
    """The terms a definition question asks about; "how do you classify?" means the archetypes."""
    return terms or (sorted(TOPIC_GROUPS["archetypes"]) if intent == "tiers" else [])


def _topic(topics: list[str]) -> str:
    wanted = {g for g, members in TOPIC_GROUPS.items() if members & set(topics)}
    wanted |= {"metrics"} if set(topics) - set().union(*TOPIC_GROUPS.values()) else set()
    return wanted.pop() if len(wanted) == 1 else "all"
