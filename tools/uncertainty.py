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

import functools
import zlib
from collections.abc import Sequence
from typing import Any

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


def pert_alpha(mode: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """The PERT-beta shape alpha = 1 + 4·(mode − low)/(high − low); beta = 6 − alpha.
    A range of zero width gets 1 (its draws are scaled by the width, 0, so it stays put)."""
    width = high - low
    safe = np.where(width > 0, width, 1.0)
    alpha = np.where(width > 0, 1 + PERT_WEIGHT * (mode - low) / safe, 1.0)
    return np.clip(alpha, 1.0, 1.0 + PERT_WEIGHT)


def pert_variance(mode: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Variance of PERT(low, mode, high): (mean − low)(high − mean) / 7."""
    mean = (low + PERT_WEIGHT * mode + high) / (PERT_WEIGHT + 2)
    return (mean - low) * (high - mean) / (PERT_WEIGHT + 3)


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
    # Single precision: ample for shares shown to 0.1%, and half the memory traffic.
    out = np.empty((width, len(keys), samples), dtype=np.float32)
    # One generator re-keyed per row: setting a Philox's state is half the cost of making one,
    # and the draws are those of a fresh Philox(key=...) (counter 0, empty buffer).
    stream = np.random.Philox(key=0)
    generator = np.random.Generator(stream)
    fresh = stream.state
    for j, key in enumerate(keys):
        state: Any = {  # numpy types the state as a TypedDict of its own
            **fresh,
            "state": {
                "counter": np.zeros(4, dtype=np.uint64),
                "key": np.array([salt, zlib.crc32(key.encode())], dtype=np.uint64),
            },
        }
        stream.state = state
        out[:, j, :] = generator.random((width, samples), dtype=np.float32)
    return out


# PERT shapes always sum to 2 + PERT_WEIGHT, so one parameter (alpha, from 1 to 1 + PERT_WEIGHT)
# names the distribution: its quantile function is tabulated once and draws are looked up from
# uniforms, several times faster than drawing two gamma variates per sample.
_ALPHAS = 401  # alpha in steps of 0.01: the nearest row is within 0.1% of the range's width
_QUANTILES = 2049


@functools.cache
def _pert_quantiles() -> np.ndarray:
    """Quantile function of Beta(alpha, 2 + PERT_WEIGHT - alpha) on a grid: (_ALPHAS, _QUANTILES).

    The CDF is integrated with the midpoint rule on 4,096 cells (no density at 0 or 1, where a
    log would be infinite), then inverted by interpolation.
    """
    edges = np.linspace(0.0, 1.0, 4097)
    mid = (edges[1:] + edges[:-1]) / 2
    alpha = np.linspace(1.0, 1.0 + PERT_WEIGHT, _ALPHAS)[:, None]
    density = np.exp((alpha - 1) * np.log(mid) + (1 + PERT_WEIGHT - alpha) * np.log1p(-mid))
    cdf = np.concatenate([np.zeros((_ALPHAS, 1)), np.cumsum(density, axis=1)], axis=1)
    cdf /= cdf[:, -1:]
    u = np.linspace(0.0, 1.0, _QUANTILES)
    return np.array([np.interp(u, c, edges) for c in cdf], dtype=np.float32)


def _pert_unit(alpha: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """PERT draws on [0, 1] from uniforms (inputs, rows, samples), in place; alpha (inputs, rows)."""
    table = _pert_quantiles()
    row = np.rint((alpha - 1.0) / PERT_WEIGHT * (_ALPHAS - 1)).astype(np.int64) * _QUANTILES
    uniforms *= np.float32(_QUANTILES - 1)
    index = uniforms.astype(np.int64)
    np.minimum(index, _QUANTILES - 2, out=index)
    uniforms -= index  # the fraction between two grid points
    index += row[:, :, None]
    flat = table.ravel()
    low = flat.take(index)
    uniforms *= flat.take(index + 1) - low
    uniforms += low
    return uniforms


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
    alpha = pert_alpha(mode, low, high)
    draws = _pert_unit(alpha, _uniforms(keys, group, samples, low.shape[0], seed))
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


# Rows sampled together: enough for numpy to run at full speed, few enough that the working
# arrays (uniforms, indices, draws of every input) stay in the CPU's cache and a ranking of
# 50,000 companies never holds more than one block of them (~60 MB) at once.
_BLOCK = 1024


def sample_metric(
    frame: Frame, metric: str, samples: int = DEFAULT_SAMPLES, seed: int = DEFAULT_SEED
) -> np.ndarray:
    """Samples of one metric for each row of the frame: shape (len(frame), samples), float32.

    Rows are drawn in blocks; each row's samples depend on its own stream only, so the blocks
    change nothing but the memory used."""
    out = np.empty((len(frame), samples), dtype=np.float32)
    for start in range(0, len(frame), _BLOCK):
        rows = list(range(start, min(start + _BLOCK, len(frame))))
        out[start : rows[-1] + 1] = _sample_block(frame.subset(rows), metric, samples, seed)
    return out


def _sample_block(frame: Frame, metric: str, samples: int, seed: int) -> np.ndarray:
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
    return np.asarray(compute(allocation, mix, capex, ratio_min_base=0.0)[metric])


def ranks_of(values: np.ndarray) -> np.ndarray:
    """Ranks (1 = highest) of the rows of a (companies, samples) array, in each sample;
    NaN ranks last. Exact ties within a sample (degenerate ranges) are ordered arbitrarily
    but reproducibly: the unstable sort is twice as fast. Sorted a block of samples at a
    time into int32 (each sample is sorted on its own, so the blocks change nothing): at
    50,000 companies the int64 sort of every sample at once took 600 MB."""
    n, samples = values.shape
    ranks = np.empty((n, samples), dtype=np.int32)
    places = np.arange(1, n + 1, dtype=np.int32)[None, :]
    for start in range(0, samples, _SAMPLES_PER_SORT):
        block = values[:, start : start + _SAMPLES_PER_SORT]
        keyed = np.ascontiguousarray(np.where(np.isnan(block), np.inf, -block).T)
        order = np.argsort(keyed, axis=1)
        out = np.empty(order.shape, dtype=np.int32)
        np.put_along_axis(out, order, places, axis=1)
        ranks[:, start : start + _SAMPLES_PER_SORT] = out.T
    return ranks


_SAMPLES_PER_SORT = 50


def prob_above(values: np.ndarray, a: int, b: int) -> float:
    """P(row a ranks above row b): share of samples where a is higher, ties half."""
    return float(prob_above_pairs(values, [a], [b])[0])


def prob_above_pairs(values: np.ndarray, a: Sequence[int], b: Sequence[int]) -> np.ndarray:
    """`prob_above` for many (a, b) pairs in one pass."""
    va, vb = values[list(a)], values[list(b)]
    return np.mean(va > vb, axis=1) + 0.5 * np.mean(va == vb, axis=1)
