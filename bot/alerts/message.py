"""The text of a ranking-change alert: templates only (no LLM), Telegram HTML, zh or en.

One message carries every event of one revision for one chat, a block per company: its rank,
values and period, archetype, how sure the new order is, and which inputs changed.
"""

from __future__ import annotations

from typing import NamedTuple

from bot.text import fmt, terms
from bot.text.changes import input_changes, weakest
from bot.text.i18n import Lang, t
from bot.text.markup import MESSAGE_LIMIT, esc, truncate
from tools.events import AlertEvent, Confidence
from tools.history import InputChange
from tools.taxonomy import ARCHETYPES, METRICS

MAX_COMPANIES = 10  # a longer list would bury the news; /rank has the rest
MAX_INPUTS = 4
MAX_PAIRS = 3
MAX_BUTTONS = 3
CALLBACK_LIMIT = 64  # bytes, Telegram's limit on a button's data
UNSUBSCRIBE = "unsub"  # the chat's 🔕 action (bot.telegram.following.toast answers it)


class Button(NamedTuple):
    label: str
    data: str


def render(events: list[AlertEvent], lang: Lang, companies: int | None = None) -> str:
    """The whole alert for one chat and one revision. `companies` counts the companies it
    concerns when `events` are those of the first MAX_COMPANIES only (as the outbox reads
    them: an import of 5,000 companies makes that many events)."""
    groups = _by_company(events)
    more = (len(groups) if companies is None else companies) - MAX_COMPANIES
    lines = [f"<b>{esc(t('alert_title', lang, revision=events[0].revision))}</b>"]
    for group in groups[:MAX_COMPANIES]:
        lines += ["", *_block(group, lang)]
    if more > 0:
        lines += ["", esc(t("alert_more", lang, n=more))]
    lines += ["", f"<i>{esc(t('alert_footer', lang))}</i>"]
    return truncate("\n".join(lines), MESSAGE_LIMIT)


def unsubscribe_buttons(scopes: list[str], events: list[AlertEvent], lang: Lang) -> list[Button]:
    """The footer's 🔕, one per subscription the alert comes from ('' the whole ranking, or
    a company): a tap ends it in place, and the button turns into a 🔔 that undoes it."""
    names = {e.company: terms.name(e, lang) for e in events}
    buttons = []
    for scope in scopes[:MAX_BUTTONS]:
        data = f"{UNSUBSCRIBE}:{scope}"
        if len(data.encode()) > CALLBACK_LIMIT:
            continue  # a company id too long to carry: /unsubscribe, in the footer, still works
        label = (
            t("btn_remove", lang, name=names.get(scope, scope))
            if scope
            else t("btn_alert_stop", lang)
        )
        buttons.append(Button(label, data))
    return buttons


def _by_company(events: list[AlertEvent]) -> list[list[AlertEvent]]:
    """Events grouped by company, the best-ranked company first; order events lead."""
    groups: dict[str, list[AlertEvent]] = {}
    kinds = {"order": 0, "metric": 1, "archetype": 2}
    for e in sorted(events, key=lambda e: (e.new_rank or 10**9, e.company, kinds[e.kind])):
        groups.setdefault(e.company, []).append(e)
    return list(groups.values())


def _block(events: list[AlertEvent], lang: Lang) -> list[str]:
    first = events[0]
    name = terms.name(first, lang)
    period = first.new_period or ""
    if first.old_period and first.old_period != first.new_period:
        period = f"{first.old_period} → {first.new_period}"
    lines = [f"<b>{esc(name)}</b> · {esc(period)}"]
    ordered_metrics = {e.metric for e in events if e.kind == "order"}
    for e in events:
        if e.kind == "metric" and e.metric in ordered_metrics:
            continue  # its values are on the rank line already
        lines += [f"• {esc(line)}" for line in _event_lines(e, lang)]
    lines.append(f"• {esc(t('alert_why', lang, items=_why(first.changes, first.currency, lang)))}")
    return lines


def _event_lines(e: AlertEvent, lang: Lang) -> list[str]:
    metric = METRICS[e.metric]
    values = {
        "metric": metric.name(lang),
        "old_value": fmt.metric_value(e.old_value, metric.unit, lang),
        "new_value": fmt.metric_value(e.new_value, metric.unit, lang),
        "old": e.old_rank,
        "new": e.new_rank,
        "total": e.total,
    }
    if e.kind == "archetype":
        old, new = (
            ARCHETYPES[a or "unclassified"].name(lang) for a in (e.old_archetype, e.new_archetype)
        )
        return [t("alert_archetype", lang, old=old, new=new)]
    if e.kind == "metric" and e.old_rank == e.new_rank:
        return [t("alert_metric", lang, rank=e.new_rank, **values)]
    if e.kind == "metric":  # pushed by a newcomer: no order event of its own
        return [t("alert_metric_moved", lang, **values)]
    if e.old_rank is None:
        return [t("alert_enters", lang, **values)]
    return [t("alert_rank", lang, **values), *_confidences(e.confidence, lang)]


def _confidences(items: list[Confidence], lang: Lang) -> list[str]:
    """The least certain pairs: the new order is only as sure as its weakest link."""
    shown, more = weakest(items, MAX_PAIRS)
    lines = [_confidence(c, lang) for c in shown]
    if more:
        lines.append(t("alert_more_pairs", lang, n=more))
    return lines


def _confidence(c: Confidence, lang: Lang) -> str:
    key = "alert_above" if c.above else "alert_below"
    other = terms.name(c, lang)
    return t(key, lang, other=other, p=fmt.prob(c.p), verdict=terms.confidence(c, lang))


def _why(changes: list[InputChange], currency: str | None, lang: Lang) -> str:
    """The inputs that changed, biggest move first, with old → new values."""
    if changes and all(c.old is None for c in changes):
        return t("alert_why_new", lang)
    items = input_changes(changes, currency, lang, MAX_INPUTS)
    return (";" if lang == "zh" else "; ").join(items) or t("alert_why_none", lang)
