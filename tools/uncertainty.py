"""Monte Carlo over the three-point inputs (DESIGN §1 Uncertainty): seeded, so reproducible.

Each input's `low / value / high` is the analyst's minimum, most likely and maximum (PERT), and is
drawn from a PERT-beta distribution whose mode is the point value. The four allocation shares (and
the four layer shares) must sum to 1 in every sample; rather than dividing independent draws by
their sum, which drags every share towards the wide ones, each group's joint deviation from the
point estimate is projected back onto the sum-to-one plane, each share absorbing a part in
proportion to its own variance (the conditional mean of independent errors given their sum). A
sample with no deviation is exactly the point estimate, so the estimate stays the centre (the mode)
of the joint distribution, and a share without a range never moves. docs/methodology.md §5.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from tools.frame import ALLOCATION, CAPEX, LAYER_MIX, Frame
from tools.metrics import compute
from tools.models import ALLOCATION_KEYS, LAYERS

DEFAULT_SEED = 20260101
DEFAULT_SAMPLES = 500
PERT_WEIGHT = 4.0  # the mode's weight in the PERT mean (low + 4·mode + high) / 6


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


def pert_shapes(
    mode: np.ndarray, low: np.ndarray, high: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """PERT-beta shape parameters (alpha, beta); a range of zero width gets (1, 1), unused."""
    width = high - low
    safe = np.where(width > 0, width, 1.0)
    alpha = np.where(width > 0, 1 + PERT_WEIGHT * (mode - low) / safe, 1.0)
    beta = np.where(width > 0, 1 + PERT_WEIGHT * (high - mode) / safe, 1.0)
    return alpha, beta


def pert_variance(mode: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    mean = (low + PERT_WEIGHT * mode + high) / (PERT_WEIGHT + 2)
    return (mean - low) * (high - mean) / (PERT_WEIGHT + 3)


def _betas(
    keys: Sequence[str], alpha: np.ndarray, beta: np.ndarray, group: str, samples: int, seed: int
) -> np.ndarray:
    """Beta(alpha, beta) draws (shapes (inputs, rows)) of shape (inputs, rows, samples), one
    random stream per row.

    Each company-period has its own counter-based Philox stream, keyed by (seed, input
    group) and a hash of its key, so its samples are the same whichever other companies
    are ranked beside it: a pair's P(A above B) in a comparison equals the one shown in
    the full ranking. A beta draw is G(alpha) / (G(alpha) + G(beta)) of two gamma draws,
    which numpy makes in single precision: ample for shares shown to 0.1%, and fast.
    """
    salt = (seed * len(_GROUPS) + _GROUPS.index(group)) % 2**64
    a32, b32 = alpha.astype(np.float32), beta.astype(np.float32)
    out = np.empty((alpha.shape[0], len(keys), samples), dtype=np.float32)
    for j, key in enumerate(keys):
        stream = np.random.Philox(key=np.array([salt, zlib.crc32(key.encode())], dtype=np.uint64))
        rng = np.random.Generator(stream)
        size = (alpha.shape[0], samples)
        ga = rng.standard_gamma(np.broadcast_to(a32[:, j, None], size), dtype=np.float32)
        gb = rng.standard_gamma(np.broadcast_to(b32[:, j, None], size), dtype=np.float32)
        out[:, j, :] = ga / (ga + gb)
    return out


def _draw(
    keys: Sequence[str],
    mode: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    group: str,
    samples: int,
    seed: int,
) -> np.ndarray:
    """PERT draws of each input (mode, low, high shaped (inputs, rows)): (inputs, rows, samples)."""
    draws = _betas(keys, *pert_shapes(mode, low, high), group, samples, seed)
    draws *= (high - low).astype(np.float32)[:, :, None]
    draws += low.astype(np.float32)[:, :, None]
    return draws


def _to_simplex(draws: np.ndarray, mode: np.ndarray, low: np.ndarray, high: np.ndarray) -> None:
    """Restore each sample's sum to the point estimate's, in place (see the module docstring).

    The excess of a sample over the point's sum is taken from each share in proportion to its
    PERT variance; a share pushed below zero is clipped (the metrics renormalise the rest).
    """
    var = pert_variance(mode, low, high)
    total = var.sum(axis=0)
    weight = (var / np.where(total > 0, total, 1.0)).astype(np.float32)
    excess = (draws - mode.astype(np.float32)[:, :, None]).sum(axis=0)
    draws -= weight[:, :, None] * excess[None, :, :]
    np.maximum(draws, 0, out=draws)


def _shares(frame: Frame, columns: slice, group: str, samples: int, seed: int) -> np.ndarray:
    mode, low, high = frame.three_point(columns)
    draws = _draw(frame.keys(), mode, low, high, group, samples, seed)
    _to_simplex(draws, mode, low, high)
    return draws


def sample_metric(
    frame: Frame, metric: str, samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED
) -> np.ndarray:
    """Samples of one metric for each row of the frame: shape (len(frame), samples)."""
    needs = _NEEDS[metric]
    allocation: dict[str, np.ndarray | float] = dict.fromkeys(ALLOCATION_KEYS, 0.25)
    mix: dict[str, np.ndarray | float] = dict.fromkeys(LAYERS, 0.25)
    capex: np.ndarray | float = 0.0
    if "allocation" in needs:
        drawn = _shares(frame, ALLOCATION, "allocation", samples, seed)
        allocation = dict(zip(ALLOCATION_KEYS, drawn, strict=True))
    if "layer_mix" in needs:
        drawn = _shares(frame, LAYER_MIX, "layer_mix", samples, seed)
        mix = dict(zip(LAYERS, drawn, strict=True))
    if "ai_capex" in needs:
        drawn = _draw(frame.keys(), *frame.three_point(CAPEX), "ai_capex", samples, seed)
        capex = drawn[0] * frame.usd[:, None].astype(np.float32)
    return compute(allocation, mix, capex, ratio_min_base=0.0)[metric]


def ranks_of(values: np.ndarray) -> np.ndarray:
    """Ranks (1 = highest) of the rows of a (companies, samples) array, in each sample;
    NaN ranks last. Exact ties within a sample (degenerate ranges) are ordered arbitrarily
    but reproducibly: the unstable sort is twice as fast."""
    keyed = np.ascontiguousarray(np.where(np.isnan(values), np.inf, -values).T)
    order = np.argsort(keyed, axis=1)
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, values.shape[0] + 1)[None, :], axis=1)
    return ranks.T


def prob_above(values: np.ndarray, a: int, b: int) -> float:
    """P(row a ranks above row b): share of samples where a is higher, ties half."""
    return float(prob_above_pairs(values, [a], [b])[0])


def prob_above_pairs(values: np.ndarray, a: Sequence[int], b: Sequence[int]) -> np.ndarray:
    """`prob_above` for many (a, b) pairs in one pass."""
    va, vb = values[list(a)], values[list(b)]
    return np.mean(va > vb, axis=1) + 0.5 * np.mean(va == vb, axis=1)
