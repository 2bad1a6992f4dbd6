"""Ranking: order, ties, filters, uncertainty, determinism, and its invariants (hypothesis)."""

from __future__ import annotations

import pytest
from conftest import company
from hypothesis import given, settings
from hypothesis import strategies as st

from tools.errors import BadArgument
from tools.models import Dataset
from tools.ranking import compare, rank, ranked
from tools.universe import Universe


def universe(make_dataset, *records, **sections) -> Universe:
    return Universe.from_dataset(make_dataset(*records, **sections))


def test_orders_high_to_low_with_ranges(make_dataset):
    u = universe(
        make_dataset,
        company("a", 0.3, spread=0.05),
        company("b", 0.7, spread=0.05),
        company("c", 0.5, spread=0.05),
    )
    r = rank(u)
    assert [row.company for row in r.rows] == ["b", "c", "a"]
    assert [row.rank for row in r.rows] == [1, 2, 3]
    for row in r.rows:
        assert row.p10 <= row.p50 <= row.p90
        assert row.rank_p10 == row.rank == row.rank_p90  # the ranges never overlap
    assert r.rows[0].above_next.p > 0.99  # 0.7 vs 0.5 with ±0.05 ranges never cross
    assert r.rows[0].above_next.level == "robust"
    assert r.rows[-1].above_next is None


def test_ties_are_flagged_and_broken_by_id(make_dataset):
    u = universe(make_dataset, company("zeta", 0.5), company("alpha", 0.5), company("mid", 0.2))
    rows = rank(u).rows
    assert [(r.company, r.tied) for r in rows] == [("alpha", True), ("zeta", True), ("mid", False)]
    assert rows[0].above_next.p == 0.5  # identical degenerate ranges: a coin flip
    assert rows[0].above_next.tie


def test_region_top_and_metric(make_dataset):
    u = universe(
        make_dataset,
        company("us1", 0.6, region="US"),
        company("cn1", 0.4, 0.3, region="CN"),
        company("cn2", 0.5, 0.1, region="CN"),
    )
    assert [r.company for r in rank(u, region="cn").rows] == ["cn2", "cn1"]
    top = rank(u, top=1)
    assert top.total == 3 and [r.company for r in top.rows] == ["us1"]
    by_supply = rank(u, "external_supply_share")
    assert [r.company for r in by_supply.rows] == ["cn1", "cn2", "us1"]
    assert by_supply.rows[0].value == pytest.approx(0.3)


def test_bad_arguments_are_named(make_dataset):
    u = universe(make_dataset, company("a", 0.5))
    with pytest.raises(BadArgument, match="unknown metric 'roe'"):
        rank(u, "roe")
    with pytest.raises(BadArgument, match="no data for period '1999'"):
        rank(u, period="1999")
    with pytest.raises(BadArgument, match="no companies in region 'EU'"):
        rank(u, region="EU")


def test_latest_period_by_default_and_period_filter(make_dataset):
    old = company("a", 0.2, period="2024")
    old["snapshots"].append(company("a", 0.8, period="2025")["snapshots"][0])
    u = universe(make_dataset, old, company("b", 0.5, period="2024"))
    latest = {r.company: (r.period, r.value) for r in rank(u).rows}
    assert latest == {"a": ("2025", 0.8), "b": ("2024", 0.5)}
    assert [r.company for r in rank(u, period="2024").rows] == ["b", "a"]


def test_same_seed_same_output_other_seed_other_samples(make_dataset):
    u = universe(make_dataset, company("a", 0.5, spread=0.2), company("b", 0.45, spread=0.2))
    assert rank(u, seed=7) == rank(u, seed=7)
    assert rank(u, seed=7).rows[0].p10 != rank(u, seed=8).rows[0].p10


def test_pair_probability_is_the_same_in_compare_and_ranking(make_dataset):
    records = [
        company(c, v, spread=0.15) for c, v in (("a", 0.5), ("b", 0.45), ("c", 0.3), ("d", 0.1))
    ]
    u = universe(make_dataset, *records)
    first = rank(u).rows[0]
    assert first.company == "a"
    c = compare(u, ["a", "b"])
    assert c.p_above("a", "b") == first.above_next.p
    assert c.p_above("a", "b") + c.p_above("b", "a") == pytest.approx(1.0)


def test_pair_probability_is_the_same_in_a_region_ranking(make_dataset):
    records = [
        company("a", 0.5, spread=0.15),
        company("x", 0.47, spread=0.15, region="CN"),
        company("b", 0.45, spread=0.15),
    ]
    u = universe(make_dataset, *records)
    us = rank(u, region="US").rows
    assert [r.company for r in us] == ["a", "b"]
    assert us[0].above_next.p == compare(u, ["a", "b"]).p_above("a", "b")


def test_compare_states_pairs_from_the_leader_and_next_within_the_set(make_dataset):
    records = [company(c, v, spread=0.15) for c, v in (("a", 0.5), ("b", 0.45), ("c", 0.3))]
    u = universe(make_dataset, *records)
    full = {r.company: r for r in rank(u).rows}
    c = compare(u, ["c", "a"])  # named loser first
    assert [r.company for r in c.rows] == ["a", "c"]
    assert [r.rank for r in c.rows] == [1, 3]  # ranks stay those of the full ranking
    [pair] = c.pairs
    assert (pair.leader, pair.other) == ("a", "c") and pair.p > 0.5
    assert c.rows[0].above_next.p == pair.p != full["a"].above_next.p  # a vs c, not a vs b
    assert c.rows[1].above_next is None


shares = st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4).filter(lambda xs: sum(xs) > 0.05)


@st.composite
def datasets(draw) -> Dataset:
    n = draw(st.integers(1, 6))
    records = []
    for i in range(n):
        raw = draw(shares)
        total = sum(raw)
        own, iaas, maas, _ = (x / total for x in raw)
        spread = draw(st.sampled_from([0.0, 0.05, 0.2]))
        records.append(company(f"c{i}", own, iaas, maas, spread=spread))
    from conftest import BASE

    return Dataset.model_validate({**BASE, "companies": records})


@settings(max_examples=40, deadline=None)
@given(datasets(), st.integers(0, 2**32 - 1))
def test_invariants(ds: Dataset, seed: int):
    u = Universe.from_dataset(ds)
    r = rank(u, samples=64, seed=seed)
    assert sorted(row.rank for row in r.rows) == list(range(1, len(ds.companies) + 1))
    values = [row.value for row in r.rows]
    assert values == sorted(values, reverse=True)
    for row in r.rows:
        assert row.p10 <= row.p50 <= row.p90
        assert row.p10 >= 0 and row.p90 <= 1
        assert 1 <= row.rank_p10 <= row.rank_p90 <= len(ds.companies)


def test_ranking_from_store_numbers_matches_full_records(store):
    """The columnar path (numbers kept in SQLite) agrees with assessing each record."""
    lazy = store.universe()
    loaded = Universe.from_dataset(store.export())
    for metric in ("self_use_inference_share", "self_use_inference_usd", "margin_position"):
        assert rank(lazy, metric) == rank(loaded, metric)
    for row in rank(lazy).rows:
        a = loaded.assess(loaded.companies[row.company])
        assert (row.archetype, row.tags) == (a.classification.archetype, a.classification.tags)
        assert row.value == pytest.approx(a.metrics["self_use_inference_share"], abs=1e-4)


@settings(max_examples=20, deadline=None)
@given(datasets(), st.integers(0, 2**32 - 1), st.integers(0, 6), st.integers(1, 4))
def test_a_page_of_a_kept_ranking_is_that_slice_of_the_whole(
    ds: Dataset, seed: int, start: int, size: int
):
    """The bot keeps `ranked` and makes a page's rows when asked: the same rows, ties, ranges
    and confidences as the whole ranking shows there, and the companies in its order."""
    u = Universe.from_dataset(ds)
    whole = rank(u, samples=64, seed=seed)
    kept = ranked(u, samples=64, seed=seed)
    page = kept.listed[start : start + size]
    assert kept.ranking(page) == whole.model_copy(update={"rows": whole.rows[start : start + size]})
    assert kept.companies == [row.company for row in whole.rows]
