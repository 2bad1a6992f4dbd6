"""What-if scenarios: overrides, renormalisation, rank and archetype, nothing written."""

from __future__ import annotations

import pytest
from conftest import company

from tools.errors import BadArgument
from tools.universe import Universe
from tools.whatif import parse_overrides, whatif


@pytest.fixture
def universe(make_dataset) -> Universe:
    return Universe.from_dataset(
        make_dataset(company("a", 0.3, 0.4, 0.1), company("b", 0.5), company("c", 0.45))
    )


def test_external_share_override_keeps_its_split_and_rescales_the_rest(universe):
    w = whatif(universe, "a", parse_overrides(["external_supply_share=20%"]))
    after = w.inputs_after
    assert after["allocation.external_iaas"] == pytest.approx(0.16)  # 0.4 : 0.1 kept
    assert after["allocation.external_maas"] == pytest.approx(0.04)
    # own_training 0.2 and own_inference 0.3 share the remaining 0.8 in proportion
    assert after["allocation.own_inference"] == pytest.approx(0.48)
    assert after["allocation.own_training"] == pytest.approx(0.32)
    assert (w.baseline.rank, w.scenario.rank) == (3, 2)
    assert (w.baseline.archetype, w.scenario.archetype) == ("supplier", "dual")


def test_universe_is_not_changed(universe):
    whatif(universe, "a", {"own_inference": 0.9})
    assert universe.assess(universe.companies["a"]).metrics[
        "self_use_inference_share"
    ] == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (["own_inference"], "is not key=value"),
        (["own_inference=lots"], "is not a number"),
        (["roe=1"], "cannot override 'roe'"),
        (["own_inference=1.5"], "must be a share between 0 and 1"),
        (["own_inference=0.7", "own_training=0.6"], "add up to 1.30, more than 1"),
        (["ai_capex=-1"], "must not be negative"),
    ],
)
def test_bad_overrides_are_named(universe, pairs, message):
    with pytest.raises(BadArgument, match=message):
        whatif(universe, "a", parse_overrides(pairs))
