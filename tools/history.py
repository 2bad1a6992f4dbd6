"""Ranking changes: the diff between two rankings with attribution, and a company's history."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Literal

import numpy as np
from pydantic import BaseModel

from tools.confidence import OrderConfidence, order_confidence
from tools.frame import Frame
from tools.models import Company, Estimate, Snapshot
from tools.ranking import check_metric, ordered, select
from tools.taxonomy import DEFAULT_METRIC
from tools.uncertainty import DEFAULT_SAMPLES, DEFAULT_SEED, prob_above, sample_metric
from tools.universe import Assessment, Universe

METRIC_MOVE_MIN = 0.05  # a share moving this much (5 percentage points) is news on its own

EventKind = Literal["order", "archetype", "metric"]


class InputChange(BaseModel):
    field: str
    old: float | str | None
    new: float | str | None


class Passed(OrderConfidence):
    """A company this one changed places with: `p` = P(the new order of the pair holds)."""

    company: str
    name: str
    name_zh: str
    above: bool  # the mover is now above this company


class Move(BaseModel):
    company: str
    name: str
    name_zh: str
    kinds: list[EventKind]
    old_rank: int | None
    new_rank: int | None
    old_value: float | None
    new_value: float | None
    old_period: str | None
    new_period: str | None
    old_archetype: str | None
    new_archetype: str | None
    changes: list[InputChange]
    passed: list[Passed]


class RankingDiff(BaseModel):
    metric: str
    before: str
    after: str
    moves: list[Move]


def flatten(snap: Snapshot | None) -> dict[str, float | str | None]:
    """A snapshot's inputs as {field path: value}, the basis of attribution."""
    if snap is None:
        return {}
    flat: dict[str, float | str | None] = {
        "period": snap.period,
        "ai_capex.currency": snap.ai_capex.currency,
    }
    groups: dict[str, Mapping[str, Estimate]] = {
        "ai_capex": {"": snap.ai_capex},
        "allocation": snap.allocation.shares(),
        "layer_mix": snap.layer_mix.shares(),
    }
    for group, estimates in groups.items():
        for key, est in estimates.items():
            path = f"{group}.{key}" if key else group
            flat[path] = est.value
            flat[f"{path}.low"] = est.low
            flat[f"{path}.high"] = est.high
    return flat


def attribute(old: Snapshot | None, new: Snapshot | None) -> list[InputChange]:
    """Which inputs differ between two snapshots of a company."""
    a, b = flatten(old), flatten(new)
    return [
        InputChange(field=k, old=a.get(k), new=b.get(k))
        for k in dict.fromkeys([*a, *b])
        if a.get(k) != b.get(k)
    ]


def diff(
    before: Universe,
    after: Universe,
    metric: str = DEFAULT_METRIC,
    period: str | None = None,
    *,
    before_period: str | None = None,
    labels: tuple[str, str] | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
) -> RankingDiff:
    """Who moved between two rankings (two revisions, or two periods of one universe).

    An event is an order change, an archetype change, or the metric moving by at least
    METRIC_MOVE_MIN; each names the inputs that changed and, for order changes, P(the new
    order holds) against every company it changed places with.
    """
    check_metric(metric)
    old = _positions(before, metric, before_period if before_period is not None else period)
    new = _positions(after, metric, period)
    moves = []
    for cid in dict.fromkeys([*new, *old]):
        move = _move(old.get(cid), new.get(cid), metric)
        if move.kinds:
            moves.append(move)
    _add_confidence(after, metric, new, old, moves, samples, seed)
    before_label, after_label = labels or (
        _label(before, before_period or period),
        _label(after, period),
    )
    moves.sort(key=lambda m: (m.new_rank or 10**9, m.company))
    return RankingDiff(metric=metric, before=before_label, after=after_label, moves=moves)


def _label(universe: Universe, period: str | None) -> str:
    return f"revision {universe.revision}" + (f", {period}" if period else "")


def _positions(
    universe: Universe, metric: str, period: str | None
) -> dict[str, tuple[int, Assessment]]:
    chosen = select(universe, period, None)
    return {
        chosen[i].company.id: (rank, chosen[i]) for rank, i in enumerate(ordered(chosen, metric), 1)
    }


def _move(
    old: tuple[int, Assessment] | None, new: tuple[int, Assessment] | None, metric: str
) -> Move:
    o, n = (old[1] if old else None), (new[1] if new else None)
    company = (n or o).company  # type: ignore[union-attr]
    old_value = o.metrics[metric] if o else None
    new_value = n.metrics[metric] if n else None
    kinds: list[EventKind] = []
    if (old and old[0]) != (new and new[0]):
        kinds.append("order")
    if o and n and o.classification.archetype != n.classification.archetype:
        kinds.append("archetype")
    if old_value is not None and new_value is not None and _moved(old_value, new_value, metric):
        kinds.append("metric")
    return Move(
        company=company.id,
        name=company.name.en,
        name_zh=company.name.zh,
        kinds=kinds,
        old_rank=old[0] if old else None,
        new_rank=new[0] if new else None,
        old_value=old_value,
        new_value=new_value,
        old_period=o.snapshot.period if o else None,
        new_period=n.snapshot.period if n else None,
        old_archetype=o.classification.archetype if o else None,
        new_archetype=n.classification.archetype if n else None,
        changes=attribute(o.snapshot if o else None, n.snapshot if n else None),
        passed=[],
    )


def _moved(old: float, new: float, metric: str) -> bool:
    if metric.endswith("_usd"):
        return old > 0 and abs(new - old) / old >= METRIC_MOVE_MIN * 2  # 10% for amounts
    return abs(new - old) >= METRIC_MOVE_MIN - 1e-12


def _add_confidence(
    after: Universe,
    metric: str,
    new: dict[str, tuple[int, Assessment]],
    old: dict[str, tuple[int, Assessment]],
    moves: list[Move],
    samples: int,
    seed: int,
) -> None:
    """For each order change, P(the new order holds) against each company it changed places with."""
    both = [c for c in new if c in old]
    if not both:
        return
    old_r = np.array([old[c][0] for c in both])
    new_r = np.array([new[c][0] for c in both])
    column = {c: i for i, c in enumerate(both)}
    draws = None
    for move in moves:
        if "order" not in move.kinds or move.company not in column:
            continue
        x = column[move.company]
        flipped = np.nonzero((old_r - old_r[x]) * (new_r - new_r[x]) < 0)[0]
        if draws is None:
            items = [(c, new[c][1].snapshot) for c in both]
            draws = sample_metric(Frame.from_snapshots(items, after.fx), metric, samples, seed)
        move.passed = [
            _passed(new[both[y]][1].company, prob_above(draws, x, int(y)), new_r[x] < new_r[y])
            for y in flipped
        ]


def _passed(other: Company, p_above: float, above: bool) -> Passed:
    """P(mover above `other`) turned into how sure the new order is."""
    c = order_confidence(p_above, above, move=True)
    names = {"name": other.name.en, "name_zh": other.name.zh}
    return Passed(company=other.id, above=above, p=c.p, level=c.level, **names)


class PeriodRank(BaseModel):
    period: str
    rank: int
    of: int
    value: float | None
    archetype: str


class History(BaseModel):
    company: str
    name: str
    name_zh: str
    metric: str
    periods: list[PeriodRank]
    period_changes: list[Move]
    revisions: list[Move]


def period_ranks(
    universe: Universe, company_id: str, metric: str = DEFAULT_METRIC
) -> list[PeriodRank]:
    """The company's rank in each period it has data for, among companies with that period."""
    out = []
    for snap in universe.companies[company_id].snapshots:
        positions = _positions(universe, metric, snap.period)
        rank, a = positions[company_id]
        out.append(
            PeriodRank(
                period=snap.period,
                rank=rank,
                of=len(positions),
                value=a.metrics[metric],
                archetype=a.classification.archetype,
            )
        )
    return out


def period_changes(universe: Universe, company_id: str, metric: str = DEFAULT_METRIC) -> list[Move]:
    """The company's moves from each period to the next (rank, archetype, inputs)."""
    periods = [s.period for s in universe.companies[company_id].snapshots]
    moves = []
    for a, b in itertools.pairwise(periods):
        d = diff(universe, universe, metric, b, before_period=a, labels=(a, b))
        moves += [m for m in d.moves if m.company == company_id]
    return moves


def revision_changes(
    universes: list[Universe], company_id: str, metric: str = DEFAULT_METRIC
) -> list[Move]:
    """The company's moves across consecutive revisions of the data (latest periods)."""
    moves = []
    for before, after in itertools.pairwise(universes):
        if company_id not in after.companies:
            continue
        d = diff(before, after, metric)
        moves += [m for m in d.moves if m.company == company_id]
    return moves


def history(
    universe: Universe, revisions: list[Universe], company_id: str, metric: str = DEFAULT_METRIC
) -> History:
    """A company's rank per period, its moves between periods, and across data revisions."""
    check_metric(metric)
    company = universe.companies[company_id]
    return History(
        company=company.id,
        name=company.name.en,
        name_zh=company.name.zh,
        metric=metric,
        periods=period_ranks(universe, company_id, metric),
        period_changes=period_changes(universe, company_id, metric),
        revisions=revision_changes(revisions, company_id, metric),
    )
