"""Costs that must grow with the work, not faster (issue 17): at thousands of companies."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import numpy as np
import pytest
from conftest import BASE, company

from bot.agent.registry import MAX_RESULT_CHARS, capped
from tools import breakdown, ranking
from tools import history as hist
from tools.models import Dataset
from tools.resolve import Resolver
from tools.store import Store
from tools.uncertainty import sample_metric


def test_capping_a_big_result_is_linear():
    # re-serialising the whole result after each dropped row took 66 s for 2,000 rows
    rows = [{"name": "x" * 300, "n": i} for i in range(5_000)]
    start = time.process_time()
    out = capped({"rows": rows, "unit": "share"})
    assert time.process_time() - start < 3
    assert len(json.dumps(out, ensure_ascii=False)) <= MAX_RESULT_CHARS
    assert out["truncated"] is True and out["rows"][0] == rows[0] and out["unit"] == "share"


def test_capping_drops_from_the_longest_list_first():
    data = {"a": list(range(100)), "b": {"c": [[1, 2, 3]] * 40}, "s": "x" * 50}
    out = capped(data, limit=300)
    assert len(json.dumps(out, ensure_ascii=False)) <= 300
    # both lists were shortened from their ends, whichever was longer at each step
    assert out["a"] == list(range(len(out["a"]))) and out["b"]["c"] == [[1, 2, 3]] * len(
        out["b"]["c"]
    )
    assert abs(len(json.dumps(out["a"])) - len(json.dumps(out["b"]["c"]))) < 20


# --- the toolkit over thousands of companies ---

N = 3_000


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The shipped data plus N companies in two periods, then a revision moving a few."""
    store = Store.open(tmp_path_factory.mktemp("scale") / "big.db")
    companies = []
    for i in range(N):
        own = 0.05 + (i * 37 % 80) / 100
        record = company(f"co{i:05d}", own, spread=0.04, period="2024")
        later = company(f"co{i:05d}", min(own + 0.03, 0.95), spread=0.04, period="2025")
        record["snapshots"] += later["snapshots"]
        companies.append(record)
    dataset = Dataset.model_validate({**BASE, "companies": companies})
    store.import_dataset(dataset, author="cli", source_name="big", source_hash="1")
    moved = Dataset.model_validate({**BASE, "companies": [company("co00007", 0.99, period="2025")]})
    store.import_dataset(moved, author="cli", source_name="moved", source_hash="2")
    return store


def cpu(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def test_one_company_is_read_without_the_others(big: Store):
    # reading every company's snapshots first took seconds at this size
    universe = big.universe(big.latest_revision())
    assert cpu(lambda: breakdown.profile(universe, "co00042")) < 0.5
    assert cpu(lambda: Resolver(universe.info.values()).resolve("Co00042")) < 2


def test_history_grows_with_the_work(big: Store):
    # every company was parsed and assessed one by one per period and revision: minutes
    def run() -> hist.History:
        revisions = (big.universe(r.id) for r in big.revisions())
        return hist.history(big.universe(), revisions, "co00007")

    assert cpu(run) < 5
    h = run()
    assert [p.period for p in h.periods] == ["2024", "2025"]
    entered, moved = h.revisions  # entered with the big import, then moved to the top
    assert entered.old_rank is None and (moved.old_rank, moved.new_rank) == (entered.new_rank, 1)
    assert {c.field for c in moved.changes} >= {"allocation.own_inference"}


def test_walking_the_revisions_reads_each_ones_changes_not_every_snapshot(big: Store):
    # a history read every snapshot again at each revision: 150,000 rows each at 50,000
    walker = Store.open(big.path)
    statements: list[str] = []
    walker.db.conn.set_trace_callback(statements.append)
    frames = [walker.universe(r.id).frame() for r in walker.revisions()]
    everything = [s for s in statements if "FROM snapshots" in s and "company_id IN" not in s]
    assert len(frames) == 3 and len(everything) == 1  # the first revision's only
    for revision, frame in zip(big.revisions(), frames, strict=True):
        cold = Store.open(big.path).universe(revision.id).frame()  # every snapshot read
        assert frame.companies == cold.companies and frame.periods == cold.periods
        assert np.array_equal(frame.table, cold.table)


def test_a_listed_part_of_a_ranking_shows_the_full_rankings_figures(big: Store):
    universe = big.universe()
    full = ranking.rank(universe)
    assert ranking.rank(universe, top=3).rows == full.rows[:3]
    named = {"co00001", "tencent", "co02999"}
    some = ranking.rank(universe, companies=named)
    assert some.rows == [r for r in full.rows if r.company in named]
    assert some.total == full.total == len(full.rows)


def test_blocks_of_samples_are_the_samples_of_each_row(big: Store):
    frame = big.universe().frame("2025")
    assert len(frame) > 2 * 1024  # several blocks
    draws = sample_metric(frame, "self_use_inference_share")
    for i in (0, 1500, len(frame) - 1):
        alone = sample_metric(frame.subset([i]), "self_use_inference_share")[0]
        assert np.array_equal(draws[i], alone)
