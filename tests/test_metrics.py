"""Every formula of DESIGN §1 against hand-computed values."""

from __future__ import annotations

import math

import pytest
from conftest import company

from tools.metrics import MissingFxRate, point_metrics
from tools.models import Dataset
from tools.universe import Universe


def metrics_of(make_dataset, record) -> dict[str, float | None]:
    u = Universe.from_dataset(make_dataset(record))
    return u.assess(u.companies[record["id"]]).metrics


def test_formulas_by_hand(make_dataset):
    # own_training 0.2, own_inference 0.5, external_iaas 0.1, external_maas 0.2; capex RMB 10bn at 0.14
    record = company("acme", 0.5, 0.1, 0.2, edge=0.4, capex=10e9, currency="CNY", region="CN")
    record["snapshots"][0]["layer_mix"] = {
        "iaas": {"value": 0.1, "sources": ["src"]},
        "maas": {"value": 0.2, "sources": ["src"]},
        "solutions": {"value": 0.3, "sources": ["src"]},
        "edge": {"value": 0.4, "sources": ["src"]},
    }
    m = metrics_of(make_dataset, record)
    assert m["self_use_inference_share"] == pytest.approx(0.5)
    assert m["inference_self_use_ratio"] == pytest.approx(0.5 / 0.7)
    assert m["external_supply_share"] == pytest.approx(0.3)
    assert m["ai_capex_usd"] == pytest.approx(1.4e9)
    assert m["self_use_inference_usd"] == pytest.approx(0.7e9)
    # (0.1*1 + 0.2*2 + 0.3*3 + 0.4*4) / 4 = 3.0 / 4
    assert m["margin_position"] == pytest.approx(0.75)


def test_shares_are_renormalised_within_tolerance(make_dataset):
    record = company("acme", 0.5, 0.1, 0.2)
    record["snapshots"][0]["allocation"]["own_training"]["value"] = 0.205  # sums to 1.005
    m = metrics_of(make_dataset, record)
    assert m["self_use_inference_share"] == pytest.approx(0.5 / 1.005)


def test_ratio_is_undefined_without_inference(make_dataset):
    m = metrics_of(make_dataset, company("trainer", 0.0, 0.3, 0.0))
    assert m["inference_self_use_ratio"] is None
    assert m["self_use_inference_share"] == 0


def test_margin_position_bounds(make_dataset):
    all_edge = company("edgy", 0.5, edge=1.0)
    assert metrics_of(make_dataset, all_edge)["margin_position"] == pytest.approx(1.0)
    all_iaas = company("renter", 0.1, 0.8)
    all_iaas["snapshots"][0]["layer_mix"] = {
        k: {"value": 1.0 if k == "iaas" else 0.0, "sources": ["src"]}
        for k in ("iaas", "maas", "solutions", "edge")
    }
    assert metrics_of(make_dataset, all_iaas)["margin_position"] == pytest.approx(0.25)


def test_fx_comes_from_the_stored_table_only(make_dataset):
    ds: Dataset = make_dataset(company("acme", 0.5, capex=1e9, currency="CNY"))
    with pytest.raises(MissingFxRate, match="no FX rate for CNY in 2025"):
        point_metrics(ds.companies[0].snapshots[0], {})
    u = Universe.from_dataset(ds)
    assert math.isclose(u.assess(u.companies["acme"]).metrics["ai_capex_usd"], 0.14e9)
