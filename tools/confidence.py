"""Confidence about an order that is shown: one ladder for every surface (DESIGN §1 Uncertainty).

The uncertainty model gives P(A ranks above B). What a reader needs is how sure the order *shown*
is — after a move, the new order — so every surface (CLI, Telegram, agent, alerts, import report)
turns a pair probability into an OrderConfidence here and words its level (bot/text); nobody
re-derives thresholds.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, computed_field

Level = Literal["robust", "likely", "lean", "coin_flip", "doubtful", "old_order_holds"]

# The ladder, on P(the order shown holds); each rung's floor. Below COIN_FLIP the order shown is
# probably wrong: for a move that means the old order probably still holds.
ROBUST = 0.90
LIKELY = 0.70
LEAN = 0.55
COIN_FLIP = 0.45
LADDER: tuple[tuple[float, Level], ...] = (
    (ROBUST, "robust"),
    (LIKELY, "likely"),
    (LEAN, "lean"),
    (COIN_FLIP, "coin_flip"),
)


class OrderConfidence(BaseModel):
    """P(the order shown holds) and its rung on the ladder."""

    p: float
    level: Level

    @computed_field  # type: ignore[prop-decorator]
    @property
    def tie(self) -> bool:
        """A near-tie (45-55%): surfaces mark it visibly."""
        return self.level == "coin_flip"


def order_confidence(
    p_above: float, shown_above: bool = True, *, move: bool = False
) -> OrderConfidence:
    """How sure the order shown is, from P(A above B) of the model.

    `shown_above`: whether A is the one shown above B (else the order shown is B over A).
    `move`: the order shown is a new one (a history step, an import, an alert); below the
    coin-flip band that reads "the old order probably still holds", else "doubtful".
    """
    p = round(p_above if shown_above else 1.0 - p_above, 3)
    low: Level = "old_order_holds" if move else "doubtful"
    level = next((name for floor, name in LADDER if p >= floor), low)
    return OrderConfidence(p=p, level=level)
