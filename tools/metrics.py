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


def _ratio(part: Num, whole: Num) -> Num:
    """part / whole, NaN where whole is 0: a company that runs no inference has no
    self-use ratio (shown as n/a)."""
    if isinstance(whole, np.ndarray):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(whole > 0, part / np.where(whole > 0, whole, 1.0), np.nan)
    return part / whole if whole > 0 else math.nan


def compute(
    allocation: Mapping[str, Num], layer_mix: Mapping[str, Num], capex: Num
) -> dict[str, Num]:
    """All derived metrics from (renormalised) inputs: floats in, floats out; arrays alike."""
    a = normalise(allocation)
    m = normalise(layer_mix)
    own, ext_maas = a["own_inference"], a["external_maas"]
    return {
        "self_use_inference_share": own,
        "inference_self_use_ratio": _ratio(own, own + ext_maas),
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
