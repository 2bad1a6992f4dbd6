"""The domain in words: company names, archetypes, metrics, inputs, periods, sources, facts
and how sure an order is, in the reader's language. Every surface says these through here.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.text import fmt
from bot.text.i18n import Lang, t
from tools.archetypes import RuleCheck
from tools.confidence import OrderConfidence
from tools.models import DisplayNames, Fact, Names, Source, Text
from tools.taxonomy import ARCHETYPES, LAYER_TERMS, METRICS

# The names of inputs that are not metrics or shares (see input_name).
_INPUT_KEYS = {"ai_capex": "input_ai_capex", "ai_capex.currency": "alert_currency"}


def name(obj: object, lang: Lang) -> str:
    """A company's name in the reader's language: a company record (`name: {zh, en}`) or a
    result (`name` and `name_zh`)."""
    names = getattr(obj, "name")  # noqa: B009
    if isinstance(names, Names):
        return names.zh if lang == "zh" else names.en
    return getattr(obj, "name_zh") if lang == "zh" else names  # noqa: B009


def archetype(arch: str, tags: Sequence[str], lang: Lang) -> str:
    """'self-user + edge ecosystem builder'."""
    return " + ".join(ARCHETYPES[x].name(lang) for x in [arch, *tags])


def metric(metric_id: str, lang: Lang) -> str:
    return METRICS[metric_id].name(lang)


def metric_value(metric_id: str, value: float | None, lang: Lang) -> str:
    return fmt.metric_value(value, METRICS[metric_id].unit, lang)


def metric_range(metric_id: str, low: float | None, high: float | None, lang: Lang) -> str:
    return fmt.metric_range(low, high, METRICS[metric_id].unit, lang)


def layer(layer_id: str, lang: Lang) -> str:
    return LAYER_TERMS[layer_id].name(lang)


def input_name(field: str, lang: Lang) -> str:
    """An input for people: 'allocation.own_inference' → 'own inference' / '自用推理'."""
    group, _, key = field.rpartition(".")
    if group == "allocation":
        return t(f"alloc_{key}", lang)
    if group == "layer_mix":
        return layer(key, lang)
    if field == "period":
        return t("col_period", lang)
    if field in _INPUT_KEYS:
        return t(_INPUT_KEYS[field], lang)
    return metric(field, lang) if field in METRICS else field


def input_value(field: str, value: float | str | None, currency: str | None, lang: Lang) -> str:
    """An input's value as shown: capex in the company's currency, shares as percentages."""
    if value is None:
        return "–"
    if isinstance(value, str):
        return value  # a period label or a currency code
    if field == "ai_capex":
        return fmt.amount(value, currency or "USD", lang)
    return fmt.pct(value)


_RULE_INPUTS = {"own_inference": "allocation.own_inference"}
_OPS = {">=": "≥", "<": "<", "<=": "≤", ">": ">"}


def rule(checks: Sequence[RuleCheck], lang: Lang) -> str:
    """The comparisons a rule made, in words: 'own inference 72% ≥ 50% & external supply
    share 0% < 20%'."""
    return " & ".join(
        f"{_rule_input(c.metric, lang)} {fmt.pct(c.value)} {_OPS.get(c.op, c.op)} "
        f"{fmt.pct(c.threshold)}"
        for c in checks
    )


def rule_spec(checks: Sequence[tuple[str, str, float]], lang: Lang) -> str:
    """A rule as written in the thresholds: 'own inference ≥ 50% & external supply share < 20%'."""
    return " & ".join(
        f"{_rule_input(field, lang)} {_OPS.get(op, op)} {fmt.pct(limit)}"
        for field, op, limit in checks
    )


def _rule_input(field: str, lang: Lang) -> str:
    return input_name(_RULE_INPUTS.get(field, field), lang)


def period(label: str, lang: Lang) -> str:
    """A period label; 'latest' (each company's own latest period) in words."""
    return t("latest", lang) if label == "latest" else label


def text(value: Text | None, lang: Lang) -> str:
    """A data text (note, period note) in the reader's language, else the other one."""
    return value.pick(lang) if value else ""


def flag(estimated: bool, lang: Lang) -> str:
    """'estimate' or 'disclosed'."""
    return t("estimate_flag" if estimated else "disclosed_flag", lang)


def source(s: Source, lang: Lang) -> str:
    """'Title (Publisher, 2026-03-20; filing)': a source by title and date, never its id."""
    date = f", {s.date}" if s.date else ""
    return f"{s.title} ({s.publisher}{date}; {t('kind_' + s.kind.value, lang)})"


def fact(f: Fact, names: DisplayNames, lang: Lang) -> str:
    """A context fact, formatted once for every surface: money in its currency, shares as
    percentages, counts with separators and the unit in the reader's words."""
    value, unit = f.value, f.unit
    if isinstance(value, Text):
        return value.pick(lang)
    if unit in fmt.CURRENCY_SYMBOL or (unit and len(unit) == 3 and unit.isupper()):
        return fmt.amount(value, unit, lang)
    if unit == "share":
        return fmt.pct(value, 1)
    number = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0")
    if not unit:
        return number
    return f"{number}{'' if lang == 'zh' else ' '}{names.unit(unit, lang)}"


def confidence(c: OrderConfidence, lang: Lang) -> str:
    """How sure the order shown is, in the words of its rung (tools.confidence's one ladder)."""
    return t(f"verdict_{c.level}", lang)


def tie_mark(c: OrderConfidence | None) -> str:
    """A visible marker for a near-tie (45–55%): the order shown is a coin flip."""
    return " ≈" if c is not None and c.tie else ""


def join(items: Sequence[str], lang: Lang) -> str:
    """A list in running text: '、' in Chinese, ', ' in English."""
    return ("、" if lang == "zh" else ", ").join(items)
