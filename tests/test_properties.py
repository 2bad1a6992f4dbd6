"""Invariants that must hold for any data (hypothesis)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import BASE, company, share
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools.frame import Frame
from tools.metrics import normalise
from tools.models import ALLOCATION_KEYS, LAYERS, Dataset
from tools.ranking import compare, rank
from tools.store import Store
from tools.taxonomy import METRICS
from tools.uncertainty import sample_metric
from tools.universe import Universe
from tools.whatif import whatif

unit = st.floats(0.0, 1.0, allow_nan=False)


@given(st.lists(unit, min_size=4, max_size=4).filter(lambda xs: sum(xs) > 1e-6))
def test_shares_renormalise_to_one(values: list[float]):
    shares = normalise(dict(zip("abcd", values, strict=True)))
    assert sum(shares.values()) == pytest.approx(1.0)
    assert all(v >= 0 for v in shares.values())


@st.composite
def records(draw) -> list[dict[str, Any]]:
    out = []
    for i in range(draw(st.integers(1, 5))):
        raw = draw(st.lists(st.floats(0.01, 1.0), min_size=4, max_size=4))
        total = sum(raw)
        own, iaas, maas = (round(x / total, 6) for x in raw[:3])
        record = company(
            f"c{i}",
            own,
            iaas,
            maas,
            edge=draw(st.sampled_from([0.0, 0.5])),
            spread=draw(st.sampled_from([0.0, 0.1])),
        )
        record["snapshots"][0]["allocation"]["own_training"]["value"] = round(
            1 - own - iaas - maas, 6
        )
        record["snapshots"][0]["allocation"]["own_training"]["low"] = None
        record["snapshots"][0]["allocation"]["own_training"]["high"] = None
        out.append(record)
    return out


@settings(max_examples=30, deadline=None)
@given(records())
def test_whatif_without_overrides_equals_the_baseline(recs):
    u = Universe.from_dataset(Dataset.model_validate({**BASE, "companies": recs}))
    for cid in u.companies:
        w = whatif(u, cid, {})
        assert w.scenario == w.baseline


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records())
def test_export_then_import_round_trip(tmp_path_factory, recs):
    store = Store.open(tmp_path_factory.mktemp("rt") / "lens.db", seed=False)
    ds = Dataset.model_validate({**BASE, "companies": recs})
    store.import_dataset(ds, author="cli", source_name="in", source_hash="h")
    exported = store.export()
    again = Dataset.model_validate(exported.model_dump(mode="json", exclude_none=True))
    assert (
        store.import_dataset(again, author="cli", source_name="out", source_hash="h2").revision
        is None
    )
    assert {c.id: c for c in exported.companies} == {c.id: c for c in ds.companies}


@st.composite
def three_point_group(draw, keys: tuple[str, ...]) -> dict[str, Any]:
    """Shares that sum to 1, each with a random minimum and maximum around it (or none)."""
    raw = draw(
        st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4).filter(lambda xs: sum(xs) > 0.05)
    )
    values = [round(x / sum(raw), 6) for x in raw]
    values[0] = max(round(1 - sum(values[1:]), 6), 0.0)
    out = {}
    for key, value in zip(keys, values, strict=True):
        if draw(st.booleans()):
            low = min(round(value * draw(st.floats(0.0, 1.0)), 6), value)
            high = max(round(value + (1 - value) * draw(st.floats(0.0, 1.0)), 6), value)
            out[key] = share(value, low, min(high, 1.0))
        else:
            out[key] = share(value)
    return out


@st.composite
def three_point_companies(draw) -> list[dict[str, Any]]:
    out = []
    for i in range(draw(st.integers(2, 6))):
        record = company(f"c{i}", 0.0)
        snap = record["snapshots"][0]
        snap["allocation"] = draw(three_point_group(ALLOCATION_KEYS))
        snap["layer_mix"] = draw(three_point_group(LAYERS))
        capex = draw(st.floats(1e6, 1e11))
        snap["ai_capex"].update(
            value=capex,
            low=capex * draw(st.floats(0.2, 1.0)),
            high=capex * draw(st.floats(1.0, 3.0)),
        )
        out.append(record)
    return out


@settings(max_examples=40, deadline=None)
@given(three_point_companies(), st.sampled_from(list(METRICS)), st.integers(0, 2**32 - 1))
def test_no_row_contradicts_itself(recs, metric, seed):
    """Random three-point inputs: each value lies in its p10-p90, each rank in its rank range,
    and the unranked rows (undefined ratios) come last."""
    u = Universe.from_dataset(Dataset.model_validate({**BASE, "companies": recs}))
    rows = rank(u, metric, samples=64, seed=seed).rows
    ranked = [r for r in rows if r.rank is not None]
    assert all(r.rank is None and r.reason for r in rows[len(ranked) :])
    for r in ranked:
        tol = 0.01 if METRICS[metric].unit == "share" else 0.01 * r.value
        assert r.p10 - tol <= r.value <= r.p90 + tol, r
        assert r.rank_p10 <= r.rank <= r.rank_p90, r


@settings(max_examples=30, deadline=None)
@given(three_point_companies(), st.integers(0, 2**32 - 1))
def test_a_pair_is_stated_once_and_its_two_sides_sum_to_one(recs, seed):
    u = Universe.from_dataset(Dataset.model_validate({**BASE, "companies": recs}))
    c = compare(u, ["c0", "c1"], samples=64, seed=seed)
    assert len(c.pairs) == 1 and c.pairs[0].p >= 0.0
    assert c.p_above("c0", "c1") + c.p_above("c1", "c0") == pytest.approx(1.0)
    assert c.rows[0].company == c.pairs[0].leader


@settings(max_examples=30, deadline=None)
@given(three_point_companies(), st.integers(0, 2**32 - 1))
def test_samples_stay_valid_and_a_company_without_ranges_is_its_point(recs, seed):
    u = Universe.from_dataset(Dataset.model_validate({**BASE, "companies": recs}))
    items = [(cid, c.snapshots[0]) for cid, c in u.companies.items()]
    frame = Frame.from_snapshots(items, u.fx)
    points = frame.point_metrics()
    fixed = (frame.table[:, :8, 1] == frame.table[:, :8, 2]).all(axis=1)
    for metric in ("self_use_inference_share", "external_supply_share", "margin_position"):
        draws = sample_metric(frame, metric, samples=64, seed=seed)
        assert (draws >= -1e-6).all() and (draws <= 1 + 1e-6).all()
        assert draws[fixed] == pytest.approx(
            np.repeat(points[metric][fixed, None], 64, axis=1), abs=1e-5
        )
