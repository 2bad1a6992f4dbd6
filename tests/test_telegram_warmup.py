"""Issue 17 and 13: the warm-up is bounded whatever the number of companies (never one chart
per company), puts what users asked for first, and after an import only the charts whose
figures changed are drawn again."""

from __future__ import annotations

import pytest
from conftest import company

from bot.telegram import commands, warmup
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
    pages = [s for s in specs if s[0] == "rank" and s[1] == DEFAULT_METRIC]
    assert len(pages) == warmup.RANK_PAGES
    assert len(specs) == warmup.RANK_PAGES + len(METRICS) - 1 + warmup.TOP_TIERS  # not N


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
