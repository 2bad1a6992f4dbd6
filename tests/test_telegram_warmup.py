"""Issue 17 and 13: the warm-up is bounded whatever the number of companies (never one chart
per company), puts what users asked for first, and after an import only the charts whose
figures changed are drawn again."""

from __future__ import annotations

import time

import pytest
from conftest import company

from bot.telegram import commands, navigation, warmup
from tools.store import Store
from tools.taxonomy import DEFAULT_METRIC, METRICS

N = 240


@pytest.fixture
def crowd(tmp_path, make_dataset) -> Store:
    store = Store.open(tmp_path / "crowd.db", seed=False)
    rows = [company(f"co{i:03d}", 0.10 + i / 1000, spread=0.01) for i in range(N)]
    store.import_dataset(make_dataset(*rows), author="cli", source_name="1", source_hash="1")
    return store


def test_the_warm_up_plan_is_bounded_and_starts_with_the_top(crowd):
    specs = warmup.plan(crowd)
    assert specs[0] == ("rank", DEFAULT_METRIC, None, None, 1)
    tiers = [s for s in specs if s[0] == "tiers"]
    assert [s[1] for s in tiers] == [f"co{i:03d}" for i in range(N - 1, N - 11, -1)]  # the top 10
    assert specs[-len(tiers) :] == tiers  # after every ranking view
    u = crowd.universe()
    periods, regions = len(u.periods()) + 1, len({c.region for c in u.info.values()})
    views = 2 * len(METRICS) * periods + warmup.RANK_PAGES + regions
    assert len(specs) <= views + warmup.TOP_TIERS  # not N


def next_metric() -> str:
    """The metric the default ranking's metric button shows next."""
    toggles = navigation.rank_buttons(DEFAULT_METRIC, None, None, 1, 1, ([], []), "en")[0]
    return navigation.parse(toggles[0].data)[1][0]


def test_what_a_tap_on_the_ranking_reaches_is_warmed_first(crowd):
    """The next page and the next metric, period and region, then every metric's first
    page (what /rank <metric> shows) and in every period, before any second page."""
    specs = warmup.plan(crowd)
    period = crowd.universe().periods()[0]
    region = min(c.region for c in crowd.universe().info.values())
    assert specs[1:5] == [
        ("rank", DEFAULT_METRIC, None, None, 2),
        ("rank", next_metric(), None, None, 1),
        ("rank", DEFAULT_METRIC, period, None, 1),
        ("rank", DEFAULT_METRIC, None, region, 1),
    ]
    firsts = [i for i, s in enumerate(specs) if s[0] == "rank" and s[3] is None and s[4] == 1]
    assert {specs[i][1] for i in firsts} == set(METRICS)
    assert max(firsts) < min(
        i for i, s in enumerate(specs) if s[4:] == (2,) and s[1:3] != (DEFAULT_METRIC, None)
    )


def test_what_users_asked_for_is_warmed_next(crowd):
    for _ in range(3):
        commands.tiers(crowd, "en", ["co007"])
    commands.rank_page(crowd, "en", DEFAULT_METRIC, None, "US", 9)
    specs = warmup.plan(crowd)
    assert specs[1] == ("tiers", "co007", None)
    assert ("rank", DEFAULT_METRIC, None, "US", 9) in specs[1 : 1 + warmup.MOST_ASKED]


def test_an_import_redraws_only_the_charts_whose_figures_changed(crowd, make_dataset):
    before_rank = commands.rank(crowd, "en", [])
    before_top = commands.tiers(crowd, "en", ["co239"])
    before_low = commands.tiers(crowd, "en", ["co000"])
    rows = [company(f"co{i:03d}", 0.10 + i / 1000, spread=0.01) for i in range(1, N)]
    rows.append(company("co000", 0.05, spread=0.01))  # only the last company moves
    crowd.import_dataset(make_dataset(*rows), author="cli", source_name="2", source_hash="2")
    after_rank = commands.rank(crowd, "en", [])
    after_top = commands.tiers(crowd, "en", ["co239"])
    after_low = commands.tiers(crowd, "en", ["co000"])
    assert after_rank.chart and before_rank.chart and after_top.chart and before_top.chart
    # The first page shows the same figures: the same picture, not drawn again.
    assert after_rank.chart.key == before_rank.chart.key
    assert after_rank.chart.png is before_rank.chart.png
    assert after_top.chart.png is before_top.chart.png
    assert after_low.chart and before_low.chart and after_low.chart.key != before_low.chart.key


def test_the_warm_up_steps_aside_while_users_are_answered(crowd, monkeypatch):
    # Three warm-up rankings computed beside a live /rank took three quarters of the one
    # interpreter from it (at 5,000 companies, 0.4-1 s in the first minute, 30 ms warm).
    made: list[float] = []
    monkeypatch.setattr(warmup, "_make", lambda store, lang, spec: made.append(time.monotonic()))
    monkeypatch.setattr(warmup, "plan", lambda store: [("rank", DEFAULT_METRIC, None, None, 1)])
    answering_until = time.monotonic() + 0.3
    start = time.monotonic()
    assert warmup.warm(crowd, busy=lambda: time.monotonic() < answering_until) == 2
    assert min(made) >= answering_until  # nothing made while users were being answered
    assert min(made) - start < 0.3 + 0.1
    made.clear()
    warmup.warm(crowd, busy=lambda: True)  # always busy: each view waits STEP_ASIDE_S at most
    assert len(made) == 2 and max(made) - start < 0.4 + 2 * warmup.STEP_ASIDE_S + 0.5
