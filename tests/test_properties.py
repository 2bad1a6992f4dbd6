"""Invariants that must hold for any data (hypothesis)."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import BASE, company
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tools.metrics import normalise
from tools.models import Dataset
from tools.store import Store
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
