"""Monte Carlo over the input ranges (DESIGN §1 Uncertainty): seeded, so reproducible."""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence

import numpy as np

from tools.metrics import compute, usd_rate
from tools.models import ALLOCATION_KEYS, LAYERS, Estimate, FxRate, Snapshot

DEFAULT_SEED = 20260101
DEFAULT_SAMPLES = 500


# Which input groups each metric reads: only those are drawn.
_GROUPS = ("allocation", "layer_mix", "ai_capex")
_NEEDS = {
    "self_use_inference_share": {"allocation"},
    "inference_self_use_ratio": {"allocation"},
    "external_supply_share": {"allocation"},
    "self_use_inference_usd": {"allocation", "ai_capex"},
    "margin_position": {"layer_mix"},
    "ai_capex_usd": {"ai_capex"},
}


def _draw(
    keys: Sequence[str], groups: Sequence[Sequence[Estimate]], group: str, samples: int, seed: int
) -> np.ndarray:
    """Uniform draws in each estimate's [low, high]: shape (samples, companies, inputs).

    Every company-period draws from its own stream, keyed by seed, input group and its key,
    so its samples are the same whichever other companies are ranked beside it: a pair's
    P(A above B) in a comparison equals the one shown in the full ranking.
    """
    out = np.empty((samples, len(keys), len(groups[0]) if groups else 0))
    for j, (key, estimates) in enumerate(zip(keys, groups, strict=True)):
        bounds = np.array([e.bounds for e in estimates], dtype=float)
        stream = np.random.default_rng([seed, _GROUPS.index(group), zlib.crc32(key.encode())])
        out[:, j, :] = stream.uniform(bounds[:, 0], bounds[:, 1], size=(samples, len(estimates)))
    return out


def sample_metric(
    items: Sequence[tuple[str, Snapshot]],
    metric: str,
    fx: Mapping[tuple[str, str], FxRate],
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
) -> np.ndarray:
    """Samples of one metric for each (company id, snapshot): shape (samples, len(items)).

    `compute` renormalises the drawn shares, so every sample is a valid allocation.
    """
    needs = _NEEDS[metric]
    keys = [f"{cid}/{snap.period}" for cid, snap in items]
    snaps = [snap for _, snap in items]
    allocation: dict[str, np.ndarray | float] = dict.fromkeys(ALLOCATION_KEYS, 0.25)
    mix: dict[str, np.ndarray | float] = dict.fromkeys(LAYERS, 0.25)
    capex: np.ndarray | float = 0.0
    if "allocation" in needs:
        drawn = _draw(
            keys, [list(s.allocation.shares().values()) for s in snaps], "allocation", samples, seed
        )
        allocation = {k: drawn[:, :, i] for i, k in enumerate(ALLOCATION_KEYS)}
    if "layer_mix" in needs:
        drawn = _draw(
            keys, [list(s.layer_mix.shares().values()) for s in snaps], "layer_mix", samples, seed
        )
        mix = {k: drawn[:, :, i] for i, k in enumerate(LAYERS)}
    if "ai_capex" in needs:
        rates = np.array([usd_rate(s.ai_capex.currency, s.period, fx) for s in snaps])
        capex = (
            _draw(keys, [[s.ai_capex] for s in snaps], "ai_capex", samples, seed)[:, :, 0] * rates
        )
    return compute(allocation, mix, capex)[metric]


def ranks_of(values: np.ndarray) -> np.ndarray:
    """Ranks (1 = highest) per row of a (samples, n) array; NaN ranks last, ties by column."""
    keyed = np.where(np.isnan(values), -np.inf, values)
    order = np.argsort(-keyed, axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(values.shape[0])[:, None]
    ranks[rows, order] = np.arange(1, values.shape[1] + 1)
    return ranks


def prob_above(values: np.ndarray, a: int, b: int) -> float:
    """P(column a ranks above column b): share of samples where a is higher, ties half."""
    va, vb = values[:, a], values[:, b]
    return float(np.mean(va > vb) + 0.5 * np.mean(va == vb))
