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


def _uniforms(keys: Sequence[str], group: str, samples: int, width: int, seed: int) -> np.ndarray:
    """U[0, 1) draws of shape (width, len(keys), samples), one random stream per key.

    Each company-period has its own counter-based Philox stream, keyed by (seed, input
    group) and a hash of its key, so its samples are the same whichever other companies
    are ranked beside it: a pair's P(A above B) in a comparison equals the one shown in
    the full ranking. Philox takes its key directly (no seed hashing), which keeps
    5,000 streams cheap.
    """
    salt = (seed * len(_GROUPS) + _GROUPS.index(group)) % 2**64
    # One contiguous (companies, samples) block per input: each company's samples in a row.
    out = np.empty((width, len(keys), samples))
    for j, key in enumerate(keys):
        stream = np.random.Philox(key=np.array([salt, zlib.crc32(key.encode())], dtype=np.uint64))
        out[:, j, :] = np.random.Generator(stream).random((width, samples))
    return out


def _draw(
    keys: Sequence[str], groups: Sequence[Sequence[Estimate]], group: str, samples: int, seed: int
) -> np.ndarray:
    """Uniform draws in each estimate's [low, high]: shape (inputs, companies, samples)."""
    width = len(groups[0]) if groups else 0
    bounds = np.array([[e.bounds for e in es] for es in groups], dtype=float).reshape(-1, width, 2)
    low = bounds[..., 0].T[:, :, None]
    span = (bounds[..., 1] - bounds[..., 0]).T[:, :, None]
    draws = _uniforms(keys, group, samples, width, seed)
    draws *= span
    draws += low
    return draws


def sample_metric(
    items: Sequence[tuple[str, Snapshot]],
    metric: str,
    fx: Mapping[tuple[str, str], FxRate],
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
) -> np.ndarray:
    """Samples of one metric for each (company id, snapshot): shape (len(items), samples).

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
        allocation = dict(zip(ALLOCATION_KEYS, drawn, strict=True))
    if "layer_mix" in needs:
        drawn = _draw(
            keys, [list(s.layer_mix.shares().values()) for s in snaps], "layer_mix", samples, seed
        )
        mix = dict(zip(LAYERS, drawn, strict=True))
    if "ai_capex" in needs:
        rates = np.array([usd_rate(s.ai_capex.currency, s.period, fx) for s in snaps])
        capex = (
            _draw(keys, [[s.ai_capex] for s in snaps], "ai_capex", samples, seed)[0]
            * rates[:, None]
        )
    return compute(allocation, mix, capex)[metric]


def ranks_of(values: np.ndarray) -> np.ndarray:
    """Ranks (1 = highest) of the rows of a (companies, samples) array, per sample column;
    NaN ranks last, ties by row order."""
    keyed = np.where(np.isnan(values), -np.inf, values)
    order = np.argsort(-keyed, axis=0, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, values.shape[0] + 1)[:, None], axis=0)
    return ranks


def prob_above(values: np.ndarray, a: int, b: int) -> float:
    """P(row a ranks above row b): share of samples where a is higher, ties half."""
    va, vb = values[a], values[b]
    return float(np.mean(va > vb) + 0.5 * np.mean(va == vb))
