"""The warm-up: a bounded set of charts drawn in the background, most likely asked first.

Drawn by the drawing processes at the warm-up's priority (charts.background), so a live
request's chart goes ahead of every warm-up chart still waiting. What is warmed is bounded
whatever the number of companies, and ordered by how close it is to what users ask: the
default ranking's first page; the views users asked for most since the bot started; what a
tap on that page reaches (the next page, the next metric, period and region); the first
page of every metric in every period (what `/rank <metric> <period>` shows) and then their
second pages; the default ranking's later pages and each region's first page; last the
tiers of the top companies — about 130 charts in both languages, never one per company.
Charts are keyed by what they show, so after an import only those whose figures changed
are drawn again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
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
# Charts asked of the drawing processes at once: one more than they draw, so the next is
# queued (behind any live chart) the moment one is done.
AHEAD: Final = charts.WORKERS + 1
STEP_ASIDE_S: Final = 1.0  # the longest a view waits for users' requests to be handled
STEP_ASIDE_POLL_S: Final = 0.01
Spec = tuple[object, ...]  # ("rank", metric, period, region, page) or ("tiers", company, period)


def plan(store: Store) -> list[Spec]:
    """What to draw, in order, each once (see the module's docstring)."""
    u = store.universe()
    periods: list[str | None] = [None, *u.periods()]
    regions = sorted({c.region for c in u.info.values()})
    names = list(METRICS)
    after = names[(names.index(DEFAULT_METRIC) + 1) % len(names)]  # the metric toggle's next
    metrics = [DEFAULT_METRIC, after, *(m for m in names if m not in (DEFAULT_METRIC, after))]

    def rank(
        metric: str, period: str | None = None, region: str | None = None, page: int = 1
    ) -> Spec:
        return ("rank", metric, period, region, page)

    one_tap = [rank(DEFAULT_METRIC, page=2), rank(after)]  # the pager, the toggles' next
    one_tap += [rank(DEFAULT_METRIC, p) for p in periods[1:2]]
    one_tap += [rank(DEFAULT_METRIC, region=r) for r in regions[:1]]
    firsts = [rank(m) for m in metrics] + [rank(m, p) for m in metrics for p in periods[1:]]
    seconds = [rank(m, p, page=2) for m in metrics for p in periods]
    later = [rank(DEFAULT_METRIC, page=n) for n in range(3, RANK_PAGES + 1)]
    later += [rank(DEFAULT_METRIC, region=r) for r in regions]
    top = [("tiers", c, None) for c in commands.top_companies(store, TOP_TIERS)]
    most = commands.most_asked(store, MOST_ASKED)
    specs = [rank(DEFAULT_METRIC), *most, *one_tap, *firsts, *seconds, *later, *top]
    return list(dict.fromkeys(specs))


def warm(
    store: Store,
    stopping: Callable[[], bool] = lambda: False,
    busy: Callable[[], bool] | None = None,
) -> int:
    """Draw the plan in both languages until `stopping()`, AHEAD charts at a time, in the
    plan's order; returns the views made. While `busy()` (users' requests being handled),
    the next view waits, up to STEP_ASIDE_S: computed beside a live request, three warm-up
    rankings took three quarters of the one interpreter from it (a /rank at 5,000 companies
    0.4-1 s in the first minute, 30 ms once warm)."""
    views = iter([(spec, lang) for spec in plan(store) for lang in LANGS])
    lock = threading.Lock()
    made: list[int] = []

    def work() -> None:
        with charts.background():
            for spec, lang in _taken(views, lock):
                if stopping():
                    return
                _step_aside(busy)
                try:
                    _make(store, lang, spec)
                except ToolkitError:  # a company or period gone since it was asked for
                    continue
                made.append(1)

    threads = [threading.Thread(target=work, name=f"warm-up-{i}") for i in range(AHEAD)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(made)


def _step_aside(busy: Callable[[], bool] | None) -> None:
    deadline = time.monotonic() + STEP_ASIDE_S
    while busy is not None and busy() and time.monotonic() < deadline:
        time.sleep(STEP_ASIDE_POLL_S)


def _taken(items: Iterator[tuple[Spec, Lang]], lock: threading.Lock) -> Iterator[tuple[Spec, Lang]]:
    """The next item of a shared iterator, one thread at a time."""
    while True:
        with lock:
            item = next(items, None)
        if item is None:
            return
        yield item


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
