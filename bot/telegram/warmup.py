"""The warm-up: a bounded set of charts drawn in the background, most likely asked first.

A live request draws its own chart on demand (and never waits for the warm-up, which draws
in a worker process: charts.background). What is warmed is bounded whatever the number of
companies: the first pages of the default ranking, the first page of every other metric,
the views users asked for most since the bot started, and the tiers of the top companies —
about a hundred charts in both languages, never one per company. Charts are keyed by what
they show, so after an import only those whose figures changed are drawn again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from bot.telegram import charts, commands
from bot.text.i18n import Lang
from tools.errors import ToolkitError
from tools.store import Store
from tools.taxonomy import DEFAULT_METRIC, METRICS

RANK_PAGES: Final = 3  # of the default ranking
MOST_ASKED: Final = 20  # views asked for since the bot started
TOP_TIERS: Final = 10  # companies at the top of the default ranking
LANGS: Final[tuple[Lang, ...]] = ("zh", "en")
Spec = tuple[object, ...]  # ("rank", metric, period, region, page) or ("tiers", company, period)


def plan(store: Store) -> list[Spec]:
    """What to draw, in order, each once: the default ranking's first page, the most asked
    views, the ranking's next pages, every metric's first page, the top companies' tiers."""
    first: Spec = ("rank", DEFAULT_METRIC, None, None, 1)
    pages: list[Spec] = [("rank", DEFAULT_METRIC, None, None, p) for p in range(2, RANK_PAGES + 1)]
    metrics: list[Spec] = [("rank", m, None, None, 1) for m in METRICS if m != DEFAULT_METRIC]
    top: list[Spec] = [("tiers", c, None) for c in commands.top_companies(store, TOP_TIERS)]
    specs = [first, *commands.most_asked(store, MOST_ASKED), *pages, *metrics, *top]
    return list(dict.fromkeys(specs))


def warm(store: Store, stopping: Callable[[], bool] = lambda: False) -> int:
    """Draw the plan in both languages until `stopping()`; returns the views made."""
    made = 0
    with charts.background():
        for spec in plan(store):
            for lang in LANGS:
                if stopping():
                    return made
                try:
                    _make(store, lang, spec)
                except ToolkitError:  # a company or period gone since it was asked for
                    continue
                made += 1
    return made


def _make(store: Store, lang: Lang, spec: Spec) -> commands.Reply:
    kind, *args = spec
    if kind == "rank":
        metric, period, region, page = args
        number = page if isinstance(page, int) else 1
        return commands.rank_page(store, lang, str(metric), _opt(period), _opt(region), number)
    company, period = args
    return commands.tiers(store, lang, [str(company), *([str(period)] if period else [])])


def _opt(value: object) -> str | None:
    return None if value is None else str(value)
