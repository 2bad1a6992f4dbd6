"""Derived metrics (DESIGN §1): one set of formulas for point values and Monte Carlo samples.

Every function here takes plain floats or numpy arrays alike, so the uncertainty model
evaluates exactly the formulas the point estimates use.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike

from tools.errors import ToolkitError
from tools.models import ALLOCATION_KEYS, LAYERS, FxRate, Money, Snapshot
from tools.taxonomy import margin_rank


class MissingFxRate(ToolkitError):
    """No stored FX rate converts this currency for this period."""


def usd_rate(currency: str, period: str, fx: Mapping[tuple[str, str], FxRate]) -> float:
    """USD per unit of a currency in a period, from the stored table (never guessed)."""
    rate = fx.get((period, currency))
    if rate is None:
        raise MissingFxRate(f"no FX rate for {currency} in {period}")
    return rate.usd_per_unit


def to_usd(money: Money, period: str, fx: Mapping[tuple[str, str], FxRate]) -> float:
    return money.value * usd_rate(money.currency, period, fx)


def normalise(shares: Mapping[str, ArrayLike]) -> dict[str, np.ndarray]:
    """Scale shares so they sum to exactly 1 (inputs sum to 1 only within a tolerance)."""
    total = sum(np.asarray(v, dtype=float) for v in shares.values())
    safe = np.where(total > 0, total, 1.0)
    return {k: np.asarray(v, dtype=float) / safe for k, v in shares.items()}


def compute(
    allocation: Mapping[str, ArrayLike], layer_mix: Mapping[str, ArrayLike], capex_usd: ArrayLike
) -> dict[str, np.ndarray]:
    """All derived metrics from (renormalised) inputs."""
    a = normalise(allocation)
    m = normalise(layer_mix)
    own, ext_maas = a["own_inference"], a["external_maas"]
    inference = own + ext_maas
    with np.errstate(divide="ignore", invalid="ignore"):
        # A company that runs no inference has no self-use ratio: NaN, shown as n/a.
        ratio = np.where(inference > 0, own / np.where(inference > 0, inference, 1.0), np.nan)
    capex = np.asarray(capex_usd, dtype=float)
    return {
        "self_use_inference_share": own,
        "inference_self_use_ratio": ratio,
        "external_supply_share": a["external_iaas"] + ext_maas,
        "self_use_inference_usd": capex * own,
        "margin_position": sum(m[layer] * margin_rank(layer) for layer in LAYERS) / 4,
        "ai_capex_usd": capex,
    }


def point_metrics(snap: Snapshot, fx: Mapping[tuple[str, str], FxRate]) -> dict[str, float | None]:
    """The metrics of one snapshot's point values; None where a metric is undefined."""
    values = compute(
        {k: snap.allocation.shares()[k].value for k in ALLOCATION_KEYS},
        {k: snap.layer_mix.shares()[k].value for k in LAYERS},
        to_usd(snap.ai_capex, snap.period, fx),
    )
    return {k: None if np.isnan(v) else float(v) for k, v in values.items()}
