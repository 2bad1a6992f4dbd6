"""Ranking by any metric with uncertainty, and the diff between two rankings."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel

from tools.archetypes import classify_all
from tools.errors import BadArgument
from tools.frame import ALLOCATION, CAPEX, LAYER_MIX, Frame
from tools.taxonomy import DEFAULT_METRIC, METRICS
from tools.uncertainty import (
    DEFAULT_SAMPLES,
    DEFAULT_SEED,
    prob_above,
    prob_above_pairs,
    ranks_of,
    sample_metric,
)
from tools.universe import Assessment, Universe

# Companies one comparison may name: its pairs grow with the square of the count, and 500
# companies took 90+ s and 490 MB. The CLI, the LLM's tools and Telegram all come here.
MAX_COMPARE = 10


class RankRow(BaseModel):
    rank: int
    company: str
    name: str
    name_zh: str
    region: str
    period: str
    value: float | None
    p10: float | None
    p50: float | None
    p90: float | None
    rank_p10: int
    rank_p90: int
    p_above_next: float | None
    tied: bool
    estimated: bool
    archetype: str
    tags: list[str]


class Ranking(BaseModel):
    metric: str
    unit: str
    period: str
    region: str | None
    samples: int
    seed: int
    total: int
    rows: list[RankRow]


def check_compare_size(companies: Sequence[str]) -> None:
    """Refuse a comparison of more than MAX_COMPARE companies (callers that resolve names
    first call it on the names too, so 500 names are not looked up one by one)."""
    if len(companies) > MAX_COMPARE:
        raise BadArgument(
            f"compare at most {MAX_COMPARE} companies at a time (got {len(companies)})"
        )


def check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise BadArgument(f"unknown metric '{metric}'; choose one of: {', '.join(METRICS)}")
    return metric


def _check_period(universe: Universe, period: str | None) -> None:
    if period is not None and period not in universe.periods():
        have = ", ".join(universe.periods())
        raise BadArgument(f"no data for period '{period}' (periods: {have})")


def select(universe: Universe, period: str | None, region: str | None) -> list[Assessment]:
    """The company-periods a ranking covers, assessed one by one (for diffs and history)."""
    _check_period(universe, period)
    return [
        universe.assess(universe.companies[c], p) for c, p in _keys(universe.frame(period, region))
    ]


def _keys(frame: Frame) -> list[tuple[str, str]]:
    return list(zip(frame.companies, frame.periods, strict=True))


def _spreads(draws: np.ndarray, ranks: np.ndarray) -> list[tuple[float | None, ...]]:
    """Per company: metric p10, p50, p90 and rank p10, p90, computed for all rows at once."""
    if np.isnan(draws).any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: undefined metric
            values = np.nanquantile(draws, [0.1, 0.5, 0.9], axis=1)
    else:
        values = np.quantile(draws, [0.1, 0.5, 0.9], axis=1)  # many times faster than nan*
    low = np.quantile(ranks, 0.1, axis=1, method="lower")
    high = np.quantile(ranks, 0.9, axis=1, method="higher")
    return [
        (
            *(None if np.isnan(v) else round(float(v), 4) for v in values[:, i]),
            int(low[i]),
            int(high[i]),
        )
        for i in range(draws.shape[0])
    ]


def _round(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)


def order_of(values: np.ndarray) -> list[int]:
    """Indices from highest value to lowest; NaN last, ties in row (company id) order."""
    keyed = np.where(np.isnan(values), -np.inf, values)
    return [int(i) for i in np.argsort(-keyed, kind="stable")]


def ordered(chosen: Sequence[Assessment], metric: str) -> list[int]:
    """`order_of` for assessed company-periods."""
    return order_of(
        np.array([math.nan if a.metrics[metric] is None else a.metrics[metric] for a in chosen])
    )


# The inputs each metric reads, for the disclosed/estimated flag.
_READS = {
    "ai_capex_usd": [CAPEX],
    "margin_position": LAYER_MIX,
    "self_use_inference_usd": [*range(4), CAPEX],
}


def rank(
    universe: Universe,
    metric: str = DEFAULT_METRIC,
    period: str | None = None,
    region: str | None = None,
    top: int | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
) -> Ranking:
    """Rank companies by a metric, high to low, with p10-p90 ranges and rank spreads.

    Works on the numbers alone (a Frame), so thousands of companies rank quickly. Ties in
    the point value share an order by company id and are flagged `tied`.
    """
    check_metric(metric)
    _check_period(universe, period)
    frame = universe.frame(period, region)
    if not len(frame):
        raise BadArgument(f"no companies in region '{region}'")
    points = frame.point_metrics()
    values = points[metric]
    archetypes, tags = classify_all(points, frame.edge_share(), universe.thresholds)
    estimated = ~frame.disclosed(_READS.get(metric, ALLOCATION))
    draws = sample_metric(frame, metric, samples, seed)
    spread = _spreads(draws, ranks_of(draws))
    order = order_of(values)
    p_next = prob_above_pairs(draws, order[:-1], order[1:])
    rows = []
    for position, i in enumerate(order):
        below = order[position + 1] if position + 1 < len(order) else None
        above = order[position - 1] if position > 0 else None
        info = universe.info[frame.companies[i]]
        p10, p50, p90, rank_p10, rank_p90 = spread[i]
        rows.append(
            RankRow(
                rank=position + 1,
                company=info.id,
                name=info.name.en,
                name_zh=info.name.zh,
                region=info.region,
                period=frame.periods[i],
                value=_round(float(values[i])),
                p10=p10,
                p50=p50,
                p90=p90,
                rank_p10=rank_p10,
                rank_p90=rank_p90,
                p_above_next=None if below is None else round(float(p_next[position]), 3),
                tied=any(j is not None and values[j] == values[i] for j in (above, below)),
                estimated=bool(estimated[i]),
                archetype=archetypes[i],
                tags=tags[i],
            )
        )
    return Ranking(
        metric=metric,
        unit=METRICS[metric].unit,
        period=period or "latest",
        region=region.upper() if region else None,
        samples=samples,
        seed=seed,
        total=len(rows),
        rows=rows[:top] if top else rows,
    )


class Comparison(BaseModel):
    metric: str
    rows: list[RankRow]
    p_above: dict[str, dict[str, float]]


def compare(
    universe: Universe,
    companies: Sequence[str],
    metric: str = DEFAULT_METRIC,
    period: str | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
) -> Comparison:
    """The named companies' rows from the full ranking, plus P(A above B) for each pair."""
    check_compare_size(companies)
    ranking = rank(universe, metric, period, samples=samples, seed=seed)
    rows = [r for r in ranking.rows if r.company in companies]
    items = [(c, universe.assess(universe.companies[c], period).snapshot) for c in companies]
    draws = sample_metric(Frame.from_snapshots(items, universe.fx), metric, samples, seed)
    p_above = {
        a: {b: round(prob_above(draws, i, j), 3) for j, b in enumerate(companies) if j != i}
        for i, a in enumerate(companies)
    }
    return Comparison(metric=metric, rows=rows, p_above=p_above)
