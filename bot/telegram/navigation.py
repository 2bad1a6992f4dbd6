"""Inline buttons and the callback data behind them, within Telegram's 64 bytes.

A company is named in callback data by a short key (8 characters of a hash of its id), so
any id fits; the key maps back to the id through the current data. A button's data is
"<action>:<arg>:<arg>…"; the handlers decode it with `parse`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from bot.alerts.subscriptions import Subscription
from bot.text import terms
from bot.text.i18n import Lang, t
from tools.models import CompanyInfo
from tools.taxonomy import METRICS

CALLBACK_LIMIT = 64  # bytes, Telegram's limit on callback_data
PAGE_SIZE = 10  # rows of a ranking page, companies of a picker page
NOOP = "noop"  # the "page k of n" button: answered, nothing else
ALL = "-"  # no period / no region in rank callback data
LABEL_LIMIT = 40  # characters of a button's label (a 200-character name is cut)


@dataclass(frozen=True)
class Button:
    label: str
    data: str  # callback data, see `data`


def label(text: str) -> str:
    """A button's label as it fits one button on a phone: a long name ends in "…"."""
    return text if len(text) <= LABEL_LIMIT else text[: LABEL_LIMIT - 1].rstrip() + "…"


def key(company_id: str) -> str:
    """A company's short key: 40 bits of a hash, so a collision among 5,000 companies is
    about one in 100,000."""
    digest = hashlib.blake2b(company_id.encode(), digest_size=5).digest()
    return base64.b32encode(digest).decode().lower()


def data(action: str, *args: str) -> str:
    text = ":".join((action, *args))
    if len(text.encode()) > CALLBACK_LIMIT:
        raise ValueError(f"callback data over {CALLBACK_LIMIT} bytes: {text!r}")
    return text


def parse(text: str) -> tuple[str, list[str]]:
    action, *args = text.split(":")
    return action, args


def pages(count: int) -> int:
    return max(1, -(-count // PAGE_SIZE))


def pager(action: str, args: Sequence[str], page: int, total: int, lang: Lang) -> list[Button]:
    """◀ page k of n ▸, the arrows wrapping around; empty when everything fits one page."""
    if total <= 1:
        return []
    before, after = (page - 2) % total + 1, page % total + 1
    return [
        Button(t("btn_prev", lang), data(action, *args, str(before))),
        Button(t("page_of", lang, k=page, total=total), NOOP),
        Button(t("btn_next", lang), data(action, *args, str(after))),
    ]


def company_buttons(
    cid: str, lang: Lang, current: str, metric: str, subscribed: bool = False
) -> list[list[Button]]:
    """The other views of a company (the current one left out, so the previous view is one
    tap away), the ranking, and the 🔔/🔕 toggle."""
    views = [
        ("tiers", "btn_tiers"),
        ("history", "btn_history"),
        ("company", "btn_company"),
        ("sources", "btn_sources"),
    ]
    k = key(cid)
    row = [Button(t(label, lang), data(action, k)) for action, label in views if action != current]
    toggle = ("unsub", "btn_unsubscribe") if subscribed else ("sub", "btn_subscribe")
    last = [
        Button(t("btn_rank", lang), data("rank", metric, ALL, ALL, "1")),
        Button(t(toggle[1], lang), data(toggle[0], k, _metric_index(metric))),
    ]
    return [row[:2], row[2:], last]


def _metric_index(metric: str) -> str:
    return str(list(METRICS).index(metric))


def metric_of(text: str) -> str | None:
    """A metric from callback data: its index (short) or its id."""
    names = list(METRICS)
    if text.isdigit() and int(text) < len(names):
        return names[int(text)]
    return text if text in METRICS else None


def rank_buttons(
    metric: str,
    period: str | None,
    region: str | None,
    page: int,
    total: int,
    choices: tuple[list[str], list[str]],
    lang: Lang,
) -> list[list[Button]]:
    """Pager, then toggles that cycle the metric, period and region in place."""
    periods, regions = choices
    p, r = period or ALL, region or ALL
    names = list(METRICS)
    next_metric = names[(names.index(metric) + 1) % len(names)]
    next_period = _cycle([ALL, *periods], p)
    next_region = _cycle([ALL, *regions], r)
    region_word = t("region_all", lang) if next_region == ALL else next_region
    toggles = [
        Button(
            t("btn_metric", lang, metric=METRICS[next_metric].name(lang)),
            data("rank", next_metric, p, r, "1"),
        ),
        Button(
            t(
                "btn_period",
                lang,
                period=next_period if next_period != ALL else t("period_latest", lang),
            ),
            data("rank", metric, next_period, r, "1"),
        ),
        Button(
            t("btn_region", lang, region=region_word), data("rank", metric, p, next_region, "1")
        ),
    ]
    rows = [pager("rank", [metric, p, r], page, total, lang), toggles]
    rows.append([Button(t("btn_subscribe", lang), data("sub", "", _metric_index(metric)))])
    return [row for row in rows if row]


def _cycle(options: list[str], current: str) -> str:
    return options[(options.index(current) + 1) % len(options)] if current in options else ALL


def picker(
    companies: Sequence[CompanyInfo], action: str, page: int, lang: Lang
) -> list[list[Button]]:
    """One page of companies as buttons that run `action` for each, two to a row, and a pager."""
    total = pages(len(companies))
    page = min(max(page, 1), total)
    shown = companies[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    buttons = [Button(terms.name(c, lang), data(action, key(c.id))) for c in shown]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    nav = pager("pick", [action], page, total, lang)
    return rows + ([nav] if nav else [])


def flipped(label: str, data_: str | None, tapped: str | None, lang: Lang) -> Button:
    """A button as it is after the tap on `tapped`: the tapped 🔔 becomes 🔕 and back."""
    if data_ is None or data_ != tapped:
        return Button(label, data_ or NOOP)
    action, args = parse(data_)
    if action == "sub":
        return Button(t("btn_unsubscribe", lang), data("unsub", *args))
    if action == "unsub":
        return Button(t("btn_subscribe", lang), data("sub", *args))
    return Button(label, data_)


def followed(
    buttons: list[list[Button]], subscribed: set[tuple[str | None, str]], lang: Lang
) -> list[list[Button]]:
    """The 🔔 of what the chat already follows shown as 🔕 (subscribed: (company, metric))."""
    marked = {
        data("sub", key(c) if c else "", _metric_index(m)) for c, m in subscribed if m in METRICS
    }
    return [
        [flipped(b.label, b.data, b.data, lang) if b.data in marked else b for b in row]
        for row in buttons
    ]


def removers(items: list[Subscription], names: dict[str, str], lang: Lang) -> list[list[Button]]:
    """One 🔕 button per subscription: "rm:<company key>:<metric>" (no key: the ranking)."""
    rows = []
    for s in dict.fromkeys((s.company, s.metric) for s in items if s.metric in METRICS):
        company, metric = s
        label = (
            t("btn_remove", lang, name=names.get(company, company))
            if company
            else t("btn_remove_ranking", lang)
        )
        which = key(company) if company else ""
        rows.append([Button(label, data("rm", which, _metric_index(metric)))])
    return rows
