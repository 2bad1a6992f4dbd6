"""Derived metrics (DESIGN §1): one set of formulas for point values and Monte Carlo samples.

Every function here takes plain floats or numpy arrays alike, so the uncertainty model
evaluates exactly the formulas the point estimates use.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from tools.errors import ToolkitError
from tools.models import LAYERS, FxRate, Money, Snapshot
from tools.taxonomy import margin_rank

Num = float | np.ndarray


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


def normalise(shares: Mapping[str, Num]) -> dict[str, Num]:
    """Scale shares so they sum to exactly 1 (inputs sum to 1 only within a tolerance)."""
    total = sum(shares.values())
    safe = np.where(total > 0, total, 1.0) if isinstance(total, np.ndarray) else (total or 1.0)
    return {k: v / safe for k, v in shares.items()}


# A ratio whose whole is under this share of compute is a ratio of two near-zero shares
# (CoreWeave: 1% own inference, 0-2% model APIs): any value from 0 to 100% fits the ranges, so
# it is undefined, not ranked (reason UNDEFINED_REASON), rather than shown as a confident 100%.
RATIO_MIN_BASE = 0.05
UNDEFINED_REASON = {"inference_self_use_ratio": "undefined_ratio"}


def _ratio(part: Num, whole: Num, min_base: float) -> Num:
    """part / whole, NaN (shown as n/a) where whole is 0 or under min_base."""
    if isinstance(whole, np.ndarray):
        defined = (whole > 0) & (whole >= min_base)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(defined, part / np.where(defined, whole, 1.0), np.nan)
    return part / whole if whole > 0 and whole >= min_base else math.nan


def compute(
    allocation: Mapping[str, Num],
    layer_mix: Mapping[str, Num],
    capex: Num,
    ratio_min_base: float = RATIO_MIN_BASE,
) -> dict[str, Num]:
    """All derived metrics from (renormalised) inputs: floats in, floats out; arrays alike.

    Point values leave a ratio undefined under RATIO_MIN_BASE; the Monte Carlo samples of a
    figure that is defined pass 0, so a sample is never dropped for dipping under it.
    """
    a = normalise(allocation)
    m = normalise(layer_mix)
    own, ext_maas = a["own_inference"], a["external_maas"]
    return {
        "self_use_inference_share": own,
        "inference_self_use_ratio": _ratio(own, own + ext_maas, ratio_min_base),
        "external_supply_share": a["external_iaas"] + ext_maas,
        "self_use_inference_usd": capex * own,
        "margin_position": sum(m[layer] * margin_rank(layer) for layer in LAYERS) / 4,
        "ai_capex_usd": capex,
    }


def point_metrics(snap: Snapshot, fx: Mapping[tuple[str, str], FxRate]) -> dict[str, float | None]:
    """The metrics of one snapshot's point values; None where a metric is undefined."""
    values = compute(
        {k: s.value for k, s in snap.allocation.shares().items()},
        {k: s.value for k, s in snap.layer_mix.shares().items()},
        to_usd(snap.ai_capex, snap.period, fx),
    )
    return {k: None if math.isnan(v) else float(v) for k, v in values.items()}
