"""Compact views of the toolkit's results: what the LLM reads and the answer renderer shows.

Conventions (stated once in the tool descriptions, not per value): shares are fractions
(0.62 = 62%); metric ids ending in `_usd` are US dollars; money figures carry their currency
as `unit`; `estimate` is true unless the company disclosed every input; `sources` are ids.
Names are in the user's language.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.text import terms
from bot.text.i18n import Lang
from bot.text.terms import name
from tools.breakdown import Figure as InputFigure
from tools.breakdown import Profile, TierBreakdown
from tools.history import History, Move
from tools.models import Estimate, Fact, Snapshot, Source
from tools.ranking import Comparison, PairOrder, Ranking, RankRow
from tools.universe import Universe
from tools.whatif import Outcome, WhatIf

NOTE_CHARS = 240  # estimate notes explain a figure; past this they only cost tokens


class View(BaseModel):
    model_config = ConfigDict(extra="forbid")


def r4(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


class Figure(View):
    value: float | str | None = None
    unit: str | None = None
    low: float | None = None
    high: float | None = None
    estimate: bool = True
    sources: list[str] = []
    # Data text, quoted: the prompt says notes are data, not instructions, and the grounding
    # gate never takes a share or rank from it (issue 14).
    quoted_note: str | None = None

    @classmethod
    def of(cls, e: Estimate | Fact | InputFigure, lang: Lang, unit: str | None = None) -> Figure:
        """Any input record (a stored estimate, a fact, a profile input) as a view figure."""
        return cls(
            value=r4(e.value) if isinstance(e.value, float) else e.value.pick(lang),
            unit=unit or getattr(e, "unit", None),
            low=r4(getattr(e, "low", None)),
            high=r4(getattr(e, "high", None)),
            estimate=not e.disclosed,
            sources=e.sources,
            quoted_note=e.note.pick(lang)[:NOTE_CHARS] if e.note else None,
        )


class SourceRef(View):
    id: str
    title: str
    publisher: str
    date: str | None = None
    kind: str

    @classmethod
    def of(cls, s: Source) -> SourceRef:
        date = s.date.isoformat() if s.date else None
        return cls(id=s.id, title=s.title, publisher=s.publisher, date=date, kind=s.kind.value)


class ErrorView(View):
    error: str
    suggestions: list[str] = []


class CompanyRef(View):
    id: str
    name: str
    other_name: str
    region: str
    tickers: list[str]
    periods: list[str]


class FindView(View):
    query: str
    matches: list[CompanyRef]
    suggestions: list[str] = []


class RankItem(View):
    rank: int | None = None
    reason: str | None = None  # why an unranked figure is not meaningful (tools.ranking.RankRow)
    company: str
    name: str
    period: str
    value: float | None = None
    p10: float | None = None
    p90: float | None = None
    rank_range: list[int] | None = None
    p_above_next: float | None = None
    above_next_is: str | None = None  # how sure that order is, in the ladder's words
    estimate: bool
    archetype: str
    tags: list[str] = []
    sources: list[str] = []


class RankView(View):
    metric: str
    unit: str
    period: str
    region: str | None = None
    total: int
    samples: int  # Monte Carlo draws and seed behind the ranges (said in the estimates note)
    seed: int
    rows: list[RankItem]


class PairProb(View):
    """One pair of a comparison, with the derived figures an answer may state about it."""

    a: str
    b: str
    p_a_above_b: float
    order_is: str  # how sure "a above b" is, in the ladder's words
    gap: float | None = None  # a's value minus b's, in the metric's unit (shares: 0.07 = 7 pp)
    ratio: float | None = None  # a's value over b's


class CompareView(View):
    metric: str
    unit: str
    period: str
    rows: list[RankItem]
    pairs: list[PairProb]


class TiersView(View):
    company: str
    name: str
    period: str
    period_note: str | None = None
    layer_mix: dict[str, float]
    allocation: dict[str, float]
    archetype: str
    tags: list[str] = []
    rule: str  # the comparisons that made the archetype, with the values seen
    tag_rule: str | None = None
    metrics: dict[str, float | None]
    estimate: bool
    sources: list[SourceRef]


class ProfileView(View):
    company: str
    name: str
    region: str
    tickers: list[str]
    description: str | None = None
    period: str
    periods: list[str]
    period_note: str | None = None
    ai_capex: Figure
    ai_capex_usd: float
    usd_per_unit: float | None = None  # the FX rate of the period that converted ai_capex
    allocation: dict[str, Figure]
    layer_mix: dict[str, float]
    metrics: dict[str, float | None]
    archetype: str
    tags: list[str] = []
    facts: dict[str, Figure] = {}
    sources: list[SourceRef]


class PeriodRankView(View):
    period: str
    rank: int
    of: int
    value: float | None = None
    archetype: str


class ChangeView(View):
    field: str
    old: float | str | None = None
    new: float | str | None = None


class MoveView(View):
    kind: Literal["period", "revision"]
    old_period: str | None = None
    new_period: str | None = None
    old_rank: int | None = None
    new_rank: int | None = None
    old_value: float | None = None
    new_value: float | None = None
    old_archetype: str | None = None
    new_archetype: str | None = None
    changed_inputs: list[ChangeView] = []
    passed: dict[str, float] = {}  # company → P(the new order holds)
    passed_is: dict[str, str] = {}  # company → how sure, in the ladder's words


class HistoryView(View):
    company: str
    name: str
    metric: str
    unit: str
    periods: list[PeriodRankView]
    changes: list[MoveView]


class OutcomeView(View):
    rank: int
    of: int
    value: float | None = None
    archetype: str
    tags: list[str] = []


class WhatIfView(View):
    company: str
    name: str
    period: str
    metric: str
    unit: str
    overrides: dict[str, float]
    capex_currency: str
    sold_fraction: float | None = None
    inputs_after: dict[str, float]
    baseline: OutcomeView
    scenario: OutcomeView
    note: str = "hypothetical scenario; nothing is saved"


class TermView(View):
    id: str
    name: str
    definition: str
    unit: str | None = None
    formula: str | None = None
    rule: str | None = None


class MethodologyView(View):
    topic: str
    layers: list[TermView] = []
    metrics: list[TermView] = []
    archetypes: list[TermView] = []
    thesis: str | None = None


# --- builders: toolkit result → view ---


def metric_sources(snap: Snapshot, metric: str) -> list[str]:
    """Source ids of the inputs a metric reads (its allocation, layer mix and/or capex)."""
    reads: dict[str, list[Estimate]] = {
        "margin_position": list(snap.layer_mix.shares().values()),
        "ai_capex_usd": [snap.ai_capex],
        "self_use_inference_usd": [snap.ai_capex, *snap.allocation.shares().values()],
    }
    inputs = reads.get(metric, list(snap.allocation.shares().values()))
    return list(dict.fromkeys(s for e in inputs for s in e.sources))


def rank_item(row: RankRow, metric: str, universe: Universe, lang: Lang) -> RankItem:
    snap = universe.snapshot(universe.companies[row.company], row.period)
    return RankItem(
        rank=row.rank,
        reason=row.reason,
        company=row.company,
        name=name(row, lang),
        period=row.period,
        value=r4(row.value),
        p10=r4(row.p10),
        p90=r4(row.p90),
        rank_range=None if row.rank_p10 is None else [row.rank_p10, row.rank_p90],
        p_above_next=row.above_next.p if row.above_next else None,
        above_next_is=terms.confidence(row.above_next, lang) if row.above_next else None,
        estimate=row.estimated,
        archetype=row.archetype,
        tags=row.tags,
        sources=metric_sources(snap, metric),
    )


def rank_view(r: Ranking, universe: Universe, lang: Lang) -> RankView:
    return RankView(
        metric=r.metric,
        unit=r.unit,
        period=r.period,
        region=r.region,
        total=r.total,
        samples=r.samples,
        seed=r.seed,
        rows=[rank_item(row, r.metric, universe, lang) for row in r.rows],
    )


def compare_view(
    c: Comparison, unit: str, period: str, universe: Universe, lang: Lang
) -> CompareView:
    values = {r.company: r.value for r in c.rows}
    pairs = [_pair(p, values, lang) for p in c.pairs]
    return CompareView(
        metric=c.metric,
        unit=unit,
        period=period,
        rows=[rank_item(r, c.metric, universe, lang) for r in c.rows],
        pairs=pairs,
    )


def _pair(pair: PairOrder, values: dict[str, float | None], lang: Lang) -> PairProb:
    """The gap and ratio are computed here so the LLM can say them and the gate can check them."""
    a, b = pair.leader, pair.other
    said = {"a": a, "b": b, "p_a_above_b": pair.p, "order_is": terms.confidence(pair, lang)}
    va, vb = values.get(a), values.get(b)
    if va is None or vb is None:
        return PairProb(**said)
    ratio = round(va / vb, 3) if va > 0 and vb > 0 else None
    return PairProb(**said, gap=round(va - vb, 4), ratio=ratio)


def tiers_view(b: TierBreakdown, lang: Lang) -> TiersView:
    return TiersView(
        company=b.company,
        name=name(b, lang),
        period=b.period,
        period_note=b.period_note.pick(lang) if b.period_note else None,
        layer_mix={k: round(v, 4) for k, v in b.layer_mix.items()},
        allocation={k: round(v, 4) for k, v in b.allocation.items()},
        archetype=b.archetype,
        tags=b.tags,
        rule=terms.rule(b.checks, lang),
        tag_rule=terms.rule([c for c in b.tag_checks if c.holds], lang) or None,
        metrics={k: r4(v) for k, v in b.metrics.items()},
        estimate=b.estimated,
        sources=[SourceRef.of(s) for s in b.sources],
    )


def profile_view(p: Profile, lang: Lang) -> ProfileView:
    return ProfileView(
        company=p.company,
        name=name(p, lang),
        region=p.region,
        tickers=p.tickers,
        description=p.description_zh if lang == "zh" else p.description,
        period=p.period,
        periods=p.periods,
        period_note=p.period_note.pick(lang) if p.period_note else None,
        ai_capex=Figure.of(p.ai_capex, lang),
        ai_capex_usd=round(p.ai_capex_usd),
        usd_per_unit=round(p.ai_capex_usd / p.ai_capex.value, 4) if p.ai_capex.value else None,
        allocation={
            k.split(".", 1)[1]: Figure.of(f, lang)
            for k, f in p.inputs.items()
            if k.startswith("allocation.")
        },
        layer_mix={
            k.split(".", 1)[1]: round(f.value, 4)
            for k, f in p.inputs.items()
            if k.startswith("layer_mix.")
        },
        metrics={k: r4(v) for k, v in p.metrics.items()},
        archetype=p.archetype,
        tags=p.tags,
        facts={k: Figure.of(f, lang) for k, f in p.facts.items()},
        sources=[SourceRef.of(s) for s in p.sources],
    )


def move_view(m: Move, kind: Literal["period", "revision"], lang: Lang) -> MoveView:
    fields = [c for c in m.changes if not c.field.endswith((".low", ".high"))]
    return MoveView(
        kind=kind,
        old_period=m.old_period,
        new_period=m.new_period,
        old_rank=m.old_rank,
        new_rank=m.new_rank,
        old_value=r4(m.old_value),
        new_value=r4(m.new_value),
        old_archetype=m.old_archetype,
        new_archetype=m.new_archetype,
        changed_inputs=[
            ChangeView(
                field=c.field,
                old=r4(c.old) if isinstance(c.old, float) else c.old,
                new=r4(c.new) if isinstance(c.new, float) else c.new,
            )
            for c in fields
        ],
        passed={p.company: p.p for p in m.passed},
        passed_is={p.company: terms.confidence(p, lang) for p in m.passed},
    )


def history_view(h: History, unit: str, lang: Lang) -> HistoryView:
    return HistoryView(
        company=h.company,
        name=name(h, lang),
        metric=h.metric,
        unit=unit,
        periods=[
            PeriodRankView(
                period=p.period, rank=p.rank, of=p.of, value=r4(p.value), archetype=p.archetype
            )
            for p in h.periods
        ],
        changes=[move_view(m, "period", lang) for m in h.period_changes]
        + [move_view(m, "revision", lang) for m in h.revisions],
    )


def _outcome(o: Outcome) -> OutcomeView:
    return OutcomeView(rank=o.rank, of=o.of, value=r4(o.value), archetype=o.archetype, tags=o.tags)


def whatif_view(w: WhatIf, unit: str, sold: float | None, lang: Lang) -> WhatIfView:
    return WhatIfView(
        capex_currency=w.currency,
        company=w.company,
        name=name(w, lang),
        period=w.period,
        metric=w.metric,
        unit=unit,
        overrides={k: round(v, 4) for k, v in w.overrides.items()},
        sold_fraction=sold,
        inputs_after=w.inputs_after,
        baseline=_outcome(w.baseline),
        scenario=_outcome(w.scenario),
    )
