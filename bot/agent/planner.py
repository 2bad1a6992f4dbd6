"""The offline planner: a question (and the chat's last plan) → an intent and the tool calls
that answer it. Used without an LLM, and in LLM mode to prefetch results when it is confident.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from pydantic import BaseModel

from bot.agent import intents as kw
from bot.agent.intents import Intent, WhatIfSpec
from bot.text.i18n import Lang
from tools.resolve import Resolver
from tools.taxonomy import DEFAULT_METRIC
from tools.universe import Universe

MAX_COMPANIES = 4  # a compare beyond this is a ranking; more per-company calls cost prompt


class Plan(BaseModel):
    intent: Intent
    companies: list[str] = []
    metric: str | None = None
    region: str | None = None
    period: str | None = None
    top: int | None = None
    whatif: WhatIfSpec | None = None
    topics: list[str] = []
    confident: bool = True


def question_lang(text: str) -> Lang:
    """Chinese when the question has any CJK character, else English."""
    return (
        "zh"
        if any(unicodedata.east_asian_width(ch) in "WF" for ch in text if ch.isalpha())
        else "en"
    )


def plan(question: str, resolver: Resolver, previous: Plan | None = None) -> Plan:
    """Read the question; a short one with no intent of its own continues the previous plan."""
    text = kw.fold(question)
    companies = resolver.find_in(question, typos=True)[:MAX_COMPANIES]
    slots: dict[str, Any] = {
        "companies": companies,
        "metric": kw.metric_of(text),
        "region": kw.region_of(question),
        "period": kw.period_of(text),
        "top": kw.top_of(text),
    }
    intent = kw.intent_of(text)
    if intent is None and previous is not None and kw.is_followup(text) and _any(slots):
        return _continue(previous, slots)
    if not companies and kw.is_help(text):
        return Plan(intent="help")
    if intent == "tiers" and not companies and kw.names_someone(question):
        return Plan(intent="tiers", confident=False)  # "Break down Foobar's layers": who is that?
    return _fresh(intent, text, slots)


def _any(slots: dict[str, Any]) -> bool:
    return any(value for value in slots.values())


def _fresh(intent: Intent | None, text: str, slots: dict[str, Any]) -> Plan:
    companies = slots["companies"]
    terms = kw.terms_of(text)
    chosen = _choose(intent, text, companies, terms)
    clean = {k: v for k, v in slots.items() if v}
    whatif = kw.whatif_of(text) if chosen == "whatif" else None
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
    if len(companies) >= 2 and (intent != "tiers" or kw.has(text, kw.COMPARE_WORDS)):
        return "compare"
    if not companies and (intent == "tiers" or (intent in ("profile", None) and terms)):
        return "methodology"  # "什么是卖水者?" asks about a term, not a company
    if intent == "methodology" and companies:
        return "profile"
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
    if p.intent in one:
        return [(one[p.intent], {"company": c, **period}) for c in p.companies]
    if p.intent == "history":
        return [("history", {"company": c, "metric": metric}) for c in p.companies]
    if p.intent == "rank":
        top = {"top": p.top} if p.top and not p.companies else {}
        region = {"region": p.region} if p.region else {}
        return [("rank", {"metric": metric, **region, **period, **top})]
    if p.intent == "compare" and len(p.companies) >= 2:
        return [("compare", {"companies": p.companies, "metric": metric, **period})]
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
