"""The one ladder for confidence about an order shown (tools.confidence)."""

from __future__ import annotations

import pytest

from tools.confidence import COIN_FLIP, LEAN, LIKELY, ROBUST, order_confidence


@pytest.mark.parametrize(
    ("p", "level"),
    [
        (1.0, "robust"),
        (ROBUST, "robust"),
        (0.899, "likely"),
        (LIKELY, "likely"),
        (0.699, "lean"),
        (LEAN, "lean"),
        (0.549, "coin_flip"),
        (0.5, "coin_flip"),
        (COIN_FLIP, "coin_flip"),
        (0.449, "doubtful"),
        (0.0, "doubtful"),
    ],
)
def test_the_ladder(p, level):
    assert order_confidence(p).level == level


def test_the_order_shown_decides_the_side():
    """P(A above B) = 26% with B shown above A: the order shown holds with 74%."""
    c = order_confidence(0.26, shown_above=False, move=True)
    assert (c.p, c.level, c.tie) == (0.74, "likely", False)


def test_below_the_coin_flip_a_move_says_the_old_order_holds():
    assert order_confidence(0.09, move=True).level == "old_order_holds"
    assert order_confidence(0.09).level == "doubtful"


def test_near_ties_carry_the_tie_marker_in_json():
    assert order_confidence(0.52).model_dump() == {"p": 0.52, "level": "coin_flip", "tie": True}
    assert order_confidence(0.56).tie is False
