"""Ranking by any metric with uncertainty, and the diff between two rankings."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Collection, Sequence
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel

from tools.archetypes import classify_all
from tools.confidence import OrderConfidence, order_confidence
from tools.errors import BadArgument
from tools.frame import ALLOCATION, CAPEX, LAYER_MIX, Frame
from tools.metrics import UNDEFINED_REASON
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

Reason = Literal["undefined_ratio"]

# Companies one comparison may name: its pairs grow with the square of the count, and 500
# companies took 90+ s and 490 MB. The CLI, the LLM's tools and Telegram all come here.
MAX_COMPARE = 10


class RankRow(BaseModel):
    """One company-period. An unranked row (a figure that is not meaningful) has `rank`,
    `value` and every spread None and a machine `reason`; it is listed after the ranked rows."""

    rank: int | None
    company: str
    name: str
    name_zh: str
    region: str
    period: str
    value: float | None
    reason: Reason | None = None
    p10: float | None
    p50: float | None
    p90: float | None
    rank_p10: int | None
    rank_p90: int | None
    above_next: OrderConfidence | None  # the order shown against the next ranked row
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


def check_period(universe: Universe, period: str | None) -> None:
    if period is not None and period not in universe.periods():
        have = ", ".join(universe.periods())
        raise BadArgument(f"no data for period '{period}' (periods: {have})")


def select(universe: Universe, period: str | None, region: str | None) -> list[Assessment]:
    """The company-periods a ranking covers, assessed one by one (for diffs and history)."""
    check_period(universe, period)
    return [
        universe.assess(universe.companies[c], p) for c, p in _keys(universe.frame(period, region))
    ]


def _keys(frame: Frame) -> list[tuple[str, str]]:
    return list(zip(frame.companies, frame.periods, strict=True))


def spreads(draws: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Per company, the p10, p50, p90 of its samples and the p10, p90 of its rank, computed for
    all rows at once: shape (5, companies), NaN for a row without a defined sample."""
    values = _quantiles(draws, [0.1, 0.5, 0.9])
    low = np.quantile(ranks, 0.1, axis=1, method="lower")
    high = np.quantile(ranks, 0.9, axis=1, method="higher")
    return np.vstack([values, low, high])


FIGURES = ("rank", "value", "p10", "p50", "p90", "rank_p10", "rank_p90")


def _figures(
    values: np.ndarray, spread: np.ndarray, shown: list[int]
) -> Callable[[int], dict[str, Any]]:
    """The figures of the ranked row at a position of the order.

    p10-p90 and the rank range are stretched to reach the value and rank shown when these fall
    outside (a lopsided range, a crowd of near-ties), so that no row contradicts itself; on the
    shipped data no stretch exceeds rounding (tests/test_consistency.py).
    """

    # numpy's rounding, as the figures of every ranking have always been: of all rows at once
    # (one call per figure and row was a tenth of `rank` at 5,000 companies)
    p10, p50, p90, rank_p10, rank_p90 = spread
    rounded = {
        "value": np.round(values, 4),
        "p10": np.round(np.minimum(p10, values), 4),
        "p50": np.round(p50, 4),
        "p90": np.round(np.maximum(p90, values), 4),
    }

    def at(position: int) -> dict[str, Any]:
        i, rank = shown[position], position + 1
        return {
            "rank": rank,
            **{name: float(column[i]) for name, column in rounded.items()},
            "rank_p10": int(min(rank_p10[i], rank)),
            "rank_p90": int(max(rank_p90[i], rank)),
        }

    return at


def _unranked(metric: str) -> dict[str, Any]:
    return {**dict.fromkeys(FIGURES), "reason": UNDEFINED_REASON.get(metric, "undefined_ratio")}


def order_of(values: np.ndarray, tiebreak: np.ndarray | None = None) -> list[int]:
    """Indices from highest value to lowest; NaN last. Equal values are ordered by `tiebreak`
    (higher first) when given, then by row (company id) order."""
    keyed, second = _sort_keys(values, tiebreak)
    return [int(i) for i in np.lexsort((np.arange(len(keyed)), -second, -keyed))]


def _sort_keys(values: np.ndarray, tiebreak: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """What `order_of` sorts on, highest first: the value (NaN lowest), then the tie-break."""
    keyed = np.where(np.isnan(values), -np.inf, values)
    second = np.zeros_like(keyed) if tiebreak is None else np.nan_to_num(tiebreak, nan=-np.inf)
    return keyed, second


def ordered(chosen: Sequence[Assessment], metric: str) -> list[int]:
    """`order_of` for assessed company-periods."""
    return order_of(
        np.array([math.nan if a.metrics[metric] is None else a.metrics[metric] for a in chosen])
    )


# The inputs each metric reads, for the disclosed/estimated flag.
_READS: dict[str, slice | list[int]] = {
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
    *,
    companies: Collection[str] | None = None,
) -> Ranking:
    """Rank companies by a metric, high to low, with p10-p90 ranges and rank spreads.

    Works on the numbers alone (a Frame), so thousands of companies rank quickly. Ties in
    the point value are ordered by median sample, then company id, and flagged `tied`. Only
    the rows listed (the `top` first, or the named `companies`) are built, as in the whole.
    """
    r = ranked(universe, metric, period, region, samples, seed, top=top, companies=companies)
    return r.ranking(r.listed)


def ranked(
    universe: Universe,
    metric: str = DEFAULT_METRIC,
    period: str | None = None,
    region: str | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
    *,
    top: int | None = None,
    companies: Collection[str] | None = None,
) -> Ranked:
    """`rank`'s order and the figures of its listed rows (every row when neither `top` nor
    `companies` is given), the RankRows made when asked for."""
    check_metric(metric)
    check_period(universe, period)
    frame = universe.frame(period, region)
    if not len(frame):
        raise BadArgument(f"no companies in region '{region}'")
    points = frame.point_metrics()
    values = points[metric]
    draws = sample_metric(frame, metric, samples, seed)
    draws[np.isnan(values)] = np.nan  # an unranked row takes no place in any sample
    ranks = ranks_of(draws)
    # Equal point values (several companies at 0% or 100%) are ordered by their median sample,
    # the model's own tie-break, so their ranks agree with their rank ranges.
    order = drawn_order(values, draws)
    shown = order[: int((~np.isnan(values)).sum())]  # ranked rows; unranked (NaN) rows follow
    if companies is not None:
        wanted = {i for i, c in enumerate(frame.companies) if c in companies}
        listed = [position for position, i in enumerate(order) if i in wanted]
    else:
        listed = list(range(min(top, len(order)) if top else len(order)))
    head = Ranking(
        metric=metric,
        unit=METRICS[metric].unit,
        period=period or "latest",
        region=region.upper() if region else None,
        samples=samples,
        seed=seed,
        total=len(order),
        rows=[],
    )
    return Ranked(universe, frame, points, head, draws, ranks, order, shown, listed)


class Ranked:
    """A ranking's order and the figures of its listed rows, worked out at once (numpy, all
    rows together); its RankRows are made for the positions asked.

    The bot keeps one per ranking and makes a page's ten rows at a time: making all 5,028
    RankRows and their order confidences was a third of a cold /rank at 5,000 companies.
    The draws are not kept (20 MB at 5,000 companies)."""

    def __init__(
        self,
        universe: Universe,
        frame: Frame,
        points: dict[str, np.ndarray],
        head: Ranking,
        draws: np.ndarray,
        ranks: np.ndarray,
        order: list[int],
        shown: list[int],
        listed: list[int],
    ) -> None:
        self.head = head
        self.listed = listed
        self.companies = [frame.companies[i] for i in order]  # ids, top first
        self._universe = universe
        self._periods = frame.periods
        self._order = order
        self._shown = shown
        self._values = values = points[head.metric]
        self._archetypes, self._tags = classify_all(points, frame.edge_share(), universe.thresholds)
        self._estimated = ~frame.disclosed(_READS.get(head.metric, ALLOCATION))
        at = [order[p] for p in listed]
        spread = np.full((5, len(frame)), np.nan)
        if at:
            spread[:, at] = spreads(draws[at], ranks[at])
        self._figures = _figures(values, spread, shown)
        pairs = [p for p in listed if p + 1 < len(shown)]
        p_next = prob_above_pairs(draws, [shown[p] for p in pairs], [shown[p + 1] for p in pairs])
        self._p_next = dict(zip(pairs, p_next.tolist(), strict=True))

    def ranking(self, positions: Sequence[int]) -> Ranking:
        """The Ranking with the rows at these positions of the order (listed ones)."""
        return self.head.model_copy(update={"rows": [self._row(p) for p in positions]})

    def _row(self, position: int) -> RankRow:
        i = self._order[position]
        info = self._universe.info[self.companies[position]]
        ranked = position < len(self._shown)
        neighbours = self._shown[max(position - 1, 0) : position + 2] if ranked else []
        p_next = self._p_next.get(position)
        return RankRow(
            company=info.id,
            name=info.name.en,
            name_zh=info.name.zh,
            region=info.region,
            period=self._periods[i],
            **(self._figures(position) if ranked else _unranked(self.head.metric)),
            above_next=None if p_next is None else order_confidence(p_next),
            tied=any(j != i and self._values[j] == self._values[i] for j in neighbours),
            estimated=bool(self._estimated[i]),
            archetype=self._archetypes[i],
            tags=self._tags[i],
        )


def drawn_order(values: np.ndarray, draws: np.ndarray) -> list[int]:
    """`order_of` with equal point values ordered by median sample, from the rows' draws: the
    ranking's order, also among a few rows taken alone (their order is the same as in all)."""
    return order_of(values, tiebreak=_medians(draws, _shared(values)))


def _shared(values: np.ndarray) -> np.ndarray:
    """Whether another row has the same (defined) point value, per row."""
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return np.asarray((counts[inverse] > 1) & ~np.isnan(values))


def point_order(
    frame: Frame,
    metric: str,
    values: np.ndarray,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
) -> list[int]:
    """The ranking's order of a frame's rows without sampling them all (history, diffs): equal
    point values by median sample, then id, as `rank` orders them. A row's samples depend on
    its own stream, so the tied rows are sampled alone."""
    tied = _shared(values)
    if not tied.any():
        return order_of(values)
    rows = np.flatnonzero(tied)
    medians = np.zeros(len(values))
    medians[rows] = _sampled_medians(frame, rows.tolist(), metric, samples, seed)
    return order_of(values, tiebreak=medians)


# Rows whose medians are drawn at once: the samples of 50,000 tied rows held together, and
# their sorted copy, took 500 MB for the two sides of a diff.
_MEDIANS_PER_BLOCK = 2_048


def _sampled_medians(
    frame: Frame, rows: list[int], metric: str, samples: int, seed: int
) -> np.ndarray:
    """The median sample of each of these rows, drawn a block of rows at a time (a row's
    samples are its own stream: the blocks change nothing but the memory)."""
    out = np.empty(len(rows))
    for start in range(0, len(rows), _MEDIANS_PER_BLOCK):
        block = rows[start : start + _MEDIANS_PER_BLOCK]
        draws = sample_metric(frame.subset(block), metric, samples, seed)
        out[start : start + len(block)] = _median(draws)
    return out


def rows_above(
    frame: Frame,
    metric: str,
    values: np.ndarray,
    row: int,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
) -> np.ndarray:
    """Which rows `point_order` puts above this one (a bool per row): only the rows tied with
    it are sampled, so one company's place among 50,000 costs a comparison, not a ranking."""
    keyed, _ = _sort_keys(values, None)
    above = keyed > keyed[row]
    group = np.flatnonzero(keyed == keyed[row])  # this row among its equals
    tied = group[_shared(values)[group]]
    tiebreak = np.zeros(len(values))
    if len(tied):
        tiebreak[tied] = _sampled_medians(frame, tied.tolist(), metric, samples, seed)
    _, second = _sort_keys(values[group], tiebreak[group])
    mine = second[group == row]
    above[group] = (second > mine) | ((second == mine) & (group < row))
    return above


def _medians(draws: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Each row's median sample where `rows` holds (0 elsewhere: a tie-break is read only
    between equal values)."""
    out = np.zeros(len(draws))
    if rows.any():
        out[rows] = _median(draws[rows])
    return out


def _median(draws: np.ndarray) -> np.ndarray:
    """Each row's median sample, as `spreads` computes its p50."""
    return _quantiles(draws, 0.5)


def _quantiles(draws: np.ndarray, q: float | list[float]) -> np.ndarray:
    """Quantiles of each row's samples, undefined samples left out."""
    if np.isnan(draws).any():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: undefined metric
            return np.asarray(np.nanquantile(draws, q, axis=1))
    return np.asarray(np.quantile(draws, q, axis=1))  # many times faster than nan*


class PairOrder(OrderConfidence):
    """A compared pair, stated from the leader's side: `p` = P(leader ranks above other)."""

    leader: str
    other: str


class Comparison(BaseModel):
    metric: str
    rows: list[RankRow]  # in the order shown; `above_next` is against the next compared row
    pairs: list[PairOrder]  # every pair of ranked companies compared, leader first

    def p_above(self, a: str, b: str) -> float:
        """P(a ranks above b), from whichever side the pair is stated."""
        pair = next(x for x in self.pairs if {x.leader, x.other} == {a, b})
        return pair.p if pair.leader == a else round(1 - pair.p, 3)


def compare(
    universe: Universe,
    companies: Sequence[str],
    metric: str = DEFAULT_METRIC,
    period: str | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
) -> Comparison:
    """The named companies' rows, ranks from the full ranking, with P(leader above other) for
    each pair and "above next" taken within the compared set."""
    check_compare_size(companies)
    rows = rank(universe, metric, period, samples=samples, seed=seed, companies=companies).rows
    ranked = [r.company for r in rows if r.rank is not None]
    items = [(c, universe.assess(universe.companies[c], period).snapshot) for c in ranked]
    draws = sample_metric(Frame.from_snapshots(items, universe.fx), metric, samples, seed)
    pairs = []
    for i, j in itertools.combinations(range(len(ranked)), 2):
        c = order_confidence(prob_above(draws, i, j))
        pairs.append(PairOrder(leader=ranked[i], other=ranked[j], p=c.p, level=c.level))
    nexts = {p.leader: p for p in pairs if ranked.index(p.other) == ranked.index(p.leader) + 1}
    shown = [r.model_copy(update={"above_next": _confidence(nexts.get(r.company))}) for r in rows]
    return Comparison(metric=metric, rows=shown, pairs=pairs)


def _confidence(pair: PairOrder | None) -> OrderConfidence | None:
    return None if pair is None else OrderConfidence(p=pair.p, level=pair.level)
