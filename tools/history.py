"""Ranking changes: the diff between two rankings with attribution, and a company's history."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel

from tools.archetypes import classify_all
from tools.attribution import InputChange, attribute
from tools.confidence import OrderConfidence, order_confidence
from tools.dataio import gc_paused
from tools.frame import Frame
from tools.models import Company, CompanyInfo, Snapshot
from tools.ranking import check_metric, check_period, drawn_order, point_order, rows_above
from tools.taxonomy import DEFAULT_METRIC
from tools.uncertainty import DEFAULT_SAMPLES, DEFAULT_SEED, prob_above, sample_metric
from tools.universe import Universe

METRIC_MOVE_MIN = 0.05  # a share moving this much (5 percentage points) is news on its own

EventKind = Literal["order", "archetype", "metric"]


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


def diff(
    before: Universe,
    after: Universe,
    metric: str = DEFAULT_METRIC,
    period: str | None = None,
    *,
    before_period: str | None = None,
    labels: tuple[str, str] | None = None,
    company: str | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = DEFAULT_SEED,
) -> RankingDiff:
    """Who moved between two rankings (two revisions, or two periods of one universe); only
    `company` when named.

    An event is an order change, an archetype change, or the metric moving by at least
    METRIC_MOVE_MIN; each names the inputs that changed and, for order changes, P(the new
    order holds) against every company it changed places with.
    """
    check_metric(metric)
    old = positions(before, metric, before_period if before_period is not None else period)
    new = positions(after, metric, period)
    before_label, after_label = labels or (
        _label(before, before_period or period),
        _label(after, period),
    )
    moves = _moves(old, new, company, samples, seed)
    return RankingDiff(metric=metric, before=before_label, after=after_label, moves=moves)


def _label(universe: Universe, period: str | None) -> str:
    return f"revision {universe.revision}" + (f", {period}" if period else "")


# Companies read by key, whole records, before every company's names are read instead.
_BY_KEY_MAX = 64
ATTRIBUTED_AT_ONCE = 500  # companies whose records are held at once to attribute their changes


@dataclass
class Positions:
    """A ranking by point value, computed on the numbers: the side of a diff. Ranks follow
    `ranking.point_order`, as `rank` orders: NaN last, equal values by median sample, then id.

    The whole order is computed only for a diff of every company (`rank_all`); one company's
    rank compares it with the others, sampling only its equals (a history at 50,000)."""

    universe: Universe
    metric: str
    frame: Frame
    values: np.ndarray
    archetypes: list[str]
    row: dict[str, int]  # company -> its row in the frame
    _ranks: np.ndarray | None = None  # rank per row, 1 = highest, once rank_all ran
    _above: dict[str, np.ndarray] = field(default_factory=dict)

    def rank_all(self) -> None:
        if self._ranks is None:
            order = point_order(self.frame, self.metric, self.values)
            self._ranks = np.empty(len(order), dtype=np.int64)
            self._ranks[order] = np.arange(1, len(order) + 1)

    def rank(self, cid: str) -> int | None:
        if cid not in self.row:
            return None
        if self._ranks is not None:
            return int(self._ranks[self.row[cid]])
        return int(self.above(cid).sum()) + 1

    def above(self, cid: str) -> np.ndarray:
        """Whether each row ranks above this company."""
        i = self.row[cid]
        if self._ranks is not None:
            return np.asarray(self._ranks < self._ranks[i])
        if cid not in self._above:
            self._above[cid] = rows_above(self.frame, self.metric, self.values, i)
        return self._above[cid]

    def about(self, ids: list[str]) -> Mapping[str, CompanyInfo]:
        """These companies' names: from every company's when the whole order is computed (a
        diff of everyone reads them all, or many passed), else read by key (a history, at
        each revision: reading 50,000 names per revision was a third of its time)."""
        if self._ranks is not None or len(ids) > _BY_KEY_MAX:
            return {cid: self.universe.info[cid] for cid in ids}
        return self.universe.companies.by_key(ids)

    def value(self, cid: str) -> float | None:
        v = float(self.values[self.row[cid]])
        return None if math.isnan(v) else v

    def archetype(self, cid: str) -> str:
        return self.archetypes[self.row[cid]]

    def snapshot(self, company: Company) -> Snapshot:
        """The company's snapshot in this ranking."""
        snap = company.snapshot(self.frame.periods[self.row[company.id]])
        assert snap is not None  # the frame's row came from this snapshot
        return snap


def positions(universe: Universe, metric: str, period: str | None) -> Positions:
    check_period(universe, period)
    frame = universe.frame(period)
    points = frame.point_metrics()
    archetypes, _ = classify_all(points, frame.edge_share(), universe.thresholds)
    return Positions(
        universe=universe,
        metric=metric,
        frame=frame,
        values=points[metric],
        archetypes=archetypes,
        row={c: i for i, c in enumerate(frame.companies)},
    )


def _moves(
    old: Positions, new: Positions, company: str | None, samples: int, seed: int
) -> list[Move]:
    if company is None:
        for side in (old, new):
            side.rank_all()
    ids = [company] if company is not None else list(dict.fromkeys([*new.row, *old.row]))
    moving = [(cid, kinds) for cid in ids if (kinds := _kinds(old, new, cid))]
    # Snapshots are read for attribution only where the inputs may differ.
    changes = _attribution(old, new, [cid for cid, _ in moving if not _same_inputs(old, new, cid)])
    with gc_paused():  # 55,000 moves at 50,000 companies: collections took a third
        moves = [_move(old, new, cid, kinds, changes.get(cid, [])) for cid, kinds in moving]
    _add_confidence(new, old, moves, company, samples, seed)
    moves.sort(key=lambda m: (m.new_rank or 10**9, m.company))
    return moves


def _same_inputs(old: Positions, new: Positions, cid: str) -> bool:
    """Whether a company's inputs are the same on both sides (same period, same numbers): a
    company that only moved because others did has nothing to attribute."""
    if cid not in old.row or cid not in new.row:
        return False
    i, j = old.row[cid], new.row[cid]
    return (
        old.frame.periods[i] == new.frame.periods[j]
        and old.frame.usd[i] == new.frame.usd[j]
        and bool(np.array_equal(old.frame.table[i], new.frame.table[j]))
    )


def _attribution(old: Positions, new: Positions, ids: list[str]) -> dict[str, list[InputChange]]:
    """Which inputs of these companies changed; their records are read ATTRIBUTED_AT_ONCE at a
    time and not kept."""
    out = {}
    for start in range(0, len(ids), ATTRIBUTED_AT_ONCE):
        chunk = ids[start : start + ATTRIBUTED_AT_ONCE]
        was, now = (
            side.universe.companies.peek([cid for cid in chunk if cid in side.row])
            for side in (old, new)
        )
        for cid in chunk:
            before = old.snapshot(was[cid]) if cid in was else None
            after = new.snapshot(now[cid]) if cid in now else None
            out[cid] = attribute(before, after)
    return out


def _kinds(old: Positions, new: Positions, cid: str) -> list[EventKind]:
    kinds: list[EventKind] = []
    if old.rank(cid) != new.rank(cid):
        kinds.append("order")
    if cid in old.row and cid in new.row and old.archetype(cid) != new.archetype(cid):
        kinds.append("archetype")
    old_value = old.value(cid) if cid in old.row else None
    new_value = new.value(cid) if cid in new.row else None
    if old_value is not None and new_value is not None and _moved(old_value, new_value, old.metric):
        kinds.append("metric")
    return kinds


def _move(
    old: Positions, new: Positions, cid: str, kinds: list[EventKind], changes: list[InputChange]
) -> Move:
    was, now = cid in old.row, cid in new.row
    info = (new if now else old).about([cid])[cid]
    return Move(
        company=cid,
        name=info.name.en,
        name_zh=info.name.zh,
        kinds=kinds,
        old_rank=old.rank(cid),
        new_rank=new.rank(cid),
        old_value=old.value(cid) if was else None,
        new_value=new.value(cid) if now else None,
        old_period=old.frame.periods[old.row[cid]] if was else None,
        new_period=new.frame.periods[new.row[cid]] if now else None,
        old_archetype=old.archetype(cid) if was else None,
        new_archetype=new.archetype(cid) if now else None,
        changes=changes,
        passed=[],
    )


def _moved(old: float, new: float, metric: str) -> bool:
    if metric.endswith("_usd"):
        return old > 0 and abs(new - old) / old >= METRIC_MOVE_MIN * 2  # 10% for amounts
    return abs(new - old) >= METRIC_MOVE_MIN - 1e-12


def _add_confidence(
    new: Positions, old: Positions, moves: list[Move], company: str | None, samples: int, seed: int
) -> None:
    """For each order change, P(the new order holds) against each company it changed places
    with. Only the rows concerned are sampled: each row's samples are its own random stream,
    the same whichever rows are drawn beside it."""
    both = [c for c in new.row if c in old.row]
    if not both or (company is not None and company not in both):
        return
    column = {c: i for i, c in enumerate(both)}
    if company is None:
        old_r, new_r = (_ranks_of(side, both) for side in (old, new))
        # Two companies whose inputs are both unchanged keep their order, so a company that
        # only shifted is checked against the changed ones alone (linear, not N x N, when
        # thousands shift because newcomers entered above them).
        changed = np.array([not _same_inputs(old, new, c) for c in both])
    else:
        old_r, new_r = (_against(side, both, company) for side in (old, new))
        changed = np.ones(len(both), dtype=bool)
    flips = {}
    for m in moves:
        x = column.get(m.company)
        if "order" not in m.kinds or x is None:
            continue
        others = np.arange(len(both)) if changed[x] else np.nonzero(changed)[0]
        crossed = others[(old_r[others] - old_r[x]) * (new_r[others] - new_r[x]) < 0]
        if len(crossed):  # else nothing to sample: at 50,000 every row was drawn for naught
            flips[m.company] = crossed
    needed = sorted({column[c] for c in flips} | {int(y) for ys in flips.values() for y in ys})
    if not needed:
        return
    at = {y: k for k, y in enumerate(needed)}
    rows = [new.row[both[y]] for y in needed]
    draws = sample_metric(new.frame.subset(rows), new.metric, samples, seed)
    # Those passed are listed in their new order (as the ranking has them).
    place = {needed[k]: p for p, k in enumerate(drawn_order(new.values[rows], draws))}
    about = new.about([both[y] for y in needed])
    for move in moves:
        if move.company not in flips:
            continue
        x = column[move.company]
        move.passed = [
            _passed(
                about[both[y]],
                prob_above(draws, at[x], at[int(y)]),
                bool(new_r[x] < new_r[y]),
            )
            for y in sorted(flips[move.company], key=lambda y: place[int(y)])
        ]


def _ranks_of(side: Positions, ids: list[str]) -> np.ndarray:
    return np.array([side.rank(c) for c in ids])


def _against(side: Positions, ids: list[str], company: str) -> np.ndarray:
    """Ranks as far as a one-company diff reads them: 0 above the company, 1 itself, 2 below."""
    rows = np.array([side.row[c] for c in ids])
    out = np.where(side.above(company)[rows], 0, 2)
    out[ids.index(company)] = 1
    return out


def _passed(other: CompanyInfo, p_above: float, above: bool) -> Passed:
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
    return _period_ranks(_by_period(universe, company_id, metric), company_id)


def period_changes(universe: Universe, company_id: str, metric: str = DEFAULT_METRIC) -> list[Move]:
    """The company's moves from each period to the next (rank, archetype, inputs)."""
    return _period_changes(_by_period(universe, company_id, metric), company_id)


def _by_period(universe: Universe, company_id: str, metric: str) -> list[Positions]:
    """The ranking of each period the company has data for, oldest first."""
    periods = [s.period for s in universe.companies[company_id].snapshots]
    return [positions(universe, metric, period) for period in periods]


def _period_ranks(sides: list[Positions], company_id: str) -> list[PeriodRank]:
    out = []
    for side in sides:
        rank = side.rank(company_id)
        assert rank is not None  # each side is a period the company has
        out.append(
            PeriodRank(
                period=side.frame.periods[side.row[company_id]],
                rank=rank,
                of=len(side.frame),
                value=side.value(company_id),
                archetype=side.archetype(company_id),
            )
        )
    return out


def _period_changes(sides: list[Positions], company_id: str) -> list[Move]:
    moves = []
    for a, b in itertools.pairwise(sides):
        moves += _moves(a, b, company_id, DEFAULT_SAMPLES, DEFAULT_SEED)
    return moves


def revision_changes(
    universes: Iterable[Universe], company_id: str, metric: str = DEFAULT_METRIC
) -> list[Move]:
    """The company's moves across consecutive revisions of the data (latest periods).

    Each revision's point values are computed once, and only two revisions are held at a
    time; the company is compared with the others, never the whole order sorted, so a long
    history costs a pass over the numbers per revision.
    """
    moves = []
    before: Positions | None = None
    for universe in universes:
        after = positions(universe, metric, None)
        if before is not None and company_id in after.row:
            moves += _moves(before, after, company_id, DEFAULT_SAMPLES, DEFAULT_SEED)
        before = after
    return moves


def history(
    universe: Universe,
    revisions: Iterable[Universe],
    company_id: str,
    metric: str = DEFAULT_METRIC,
) -> History:
    """A company's rank per period, its moves between periods, and across data revisions
    (`revisions` in order, oldest first; a generator keeps one or two of them in memory)."""
    check_metric(metric)
    company = universe.companies[company_id]
    sides = _by_period(universe, company_id, metric)  # each period ranked once, for both
    return History(
        company=company.id,
        name=company.name.en,
        name_zh=company.name.zh,
        metric=metric,
        periods=_period_ranks(sides, company_id),
        period_changes=_period_changes(sides, company_id),
        revisions=revision_changes(revisions, company_id, metric),
    )
