"""Archetype rules: order, thresholds from data, the rule that fired, the edge tag."""

from __future__ import annotations

import pytest
from conftest import company

from tools.archetypes import classify
from tools.models import Thresholds
from tools.universe import Universe


def classify_record(make_dataset, record, **sections):
    u = Universe.from_dataset(make_dataset(record, **sections))
    return u.assess(u.companies[record["id"]]).classification


@pytest.mark.parametrize(
    ("own", "iaas", "maas", "expected"),
    [
        (0.05, 0.6, 0.2, "supplier"),  # external 0.8
        (0.10, 0.5, 0.0, "supplier"),  # boundary: external exactly 0.5
        (0.40, 0.2, 0.1, "dual"),  # external 0.3, own 0.4
        (0.20, 0.1, 0.1, "dual"),  # both exactly at the dual thresholds
        (0.70, 0.05, 0.1, "self_user"),  # external 0.15 < 0.2
        (0.50, 0.0, 0.0, "self_user"),  # boundary own = 0.5
        (0.30, 0.0, 0.1, "unclassified"),  # training-heavy: no rule holds
    ],
)
def test_rules_in_order(make_dataset, own, iaas, maas, expected):
    assert classify_record(make_dataset, company("x", own, iaas, maas)).archetype == expected


def test_supplier_wins_over_dual_when_both_hold(make_dataset):
    result = classify_record(make_dataset, company("x", 0.3, 0.5, 0.2))
    assert result.archetype == "supplier"
    assert result.rule == "external_supply_share 0.70 >= 0.5"


def test_explanation_names_numbers(make_dataset):
    result = classify_record(make_dataset, company("x", 0.72, 0.0, 0.05, edge=0.6))
    assert result.archetype == "self_user"
    assert result.rule == "own_inference 0.72 >= 0.5 and external_supply_share 0.05 < 0.2"
    assert result.tags == ["edge_builder"]
    assert str(result.tag_checks[0]) == "layer_mix.edge 0.60 >= 0.4"


def test_unclassified_says_which_checks_failed(make_dataset):
    result = classify_record(make_dataset, company("x", 0.3, 0.0, 0.1))
    assert result.rule.startswith("no rule matched: ")
    assert "own_inference 0.30 >= 0.5" in result.rule


def test_thresholds_come_from_data(make_dataset):
    record = company("x", 0.45, 0.0, 0.1)
    assert classify_record(make_dataset, record).archetype == "unclassified"
    lenient = {"self_user_own_inference_min": 0.4}
    assert classify_record(make_dataset, record, thresholds=lenient).archetype == "self_user"


def test_edge_tag_boundary():
    metrics = {"external_supply_share": 0.0, "self_use_inference_share": 0.6}
    assert classify(metrics, 0.4, Thresholds()).tags == ["edge_builder"]
    assert classify(metrics, 0.39, Thresholds()).tags == []
