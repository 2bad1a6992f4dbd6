"""A company's tier breakdown and profile: the layer mix, archetype, metrics and their sources."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tools.archetypes import RuleCheck
from tools.models import DisplayNames, Estimate, Fact, Snapshot, Source, Text
from tools.universe import Universe


class Figure(BaseModel):
    """An input as shown to users: value, range, disclosed or estimated, where from."""

    value: float
    low: float | None
    high: float | None
    disclosed: bool
    sources: list[str]
    note: Text | None
    unit: str | None = None

    @classmethod
    def of(cls, estimate: Estimate, unit: str | None = None) -> Figure:
        return cls(
            value=estimate.value,
            low=estimate.low,
            high=estimate.high,
            disclosed=estimate.disclosed,
            sources=estimate.sources,
            note=estimate.note,
            unit=unit,
        )


class TierBreakdown(BaseModel):
    company: str
    name: str
    name_zh: str
    period: str
    period_note: Text | None
    layer_mix: dict[str, float]
    allocation: dict[str, float]
    # Each share's range as the data states it (low, high): what the Monte Carlo draws from.
    layer_ranges: dict[str, tuple[float, float]] = Field(default_factory=dict)
    allocation_ranges: dict[str, tuple[float, float]] = Field(default_factory=dict)
    archetype: str
    tags: list[str]
    explanation: str
    checks: list[RuleCheck]
    tag_checks: list[RuleCheck]
    metrics: dict[str, float | None]
    estimated: bool
    sources: list[Source]


class Profile(BaseModel):
    company: str
    name: str
    name_zh: str
    aliases: list[str]
    tickers: list[str]
    region: str
    description: str | None
    description_zh: str | None
    period: str
    periods: list[str]
    period_note: Text | None
    ai_capex: Figure
    ai_capex_usd: float
    inputs: dict[str, Figure]
    metrics: dict[str, float | None]
    archetype: str
    tags: list[str]
    facts: dict[str, Fact]
    names: DisplayNames  # of the facts' keys and unit words
    sources: list[Source]


def cited_sources(universe: Universe, snap: Snapshot) -> list[Source]:
    """The source records a snapshot's figures cite, in first-cited order."""
    ids = [*snap.ai_capex.sources]
    for share in (*snap.allocation.shares().values(), *snap.layer_mix.shares().values()):
        ids += share.sources
    for fact in snap.facts.values():
        ids += fact.sources
    return [universe.sources[i] for i in dict.fromkeys(ids) if i in universe.sources]


def tiers(universe: Universe, company_id: str, period: str | None = None) -> TierBreakdown:
    """The four-layer split, the archetype with the rule that fired, and the metrics."""
    a = universe.assess(universe.companies[company_id], period)
    snap = a.snapshot
    inputs = [*snap.allocation.shares().values(), *snap.layer_mix.shares().values()]
    return TierBreakdown(
        company=a.company.id,
        name=a.company.name.en,
        name_zh=a.company.name.zh,
        period=snap.period,
        period_note=snap.period_note,
        layer_mix={k: s.value for k, s in snap.layer_mix.shares().items()},
        allocation={k: s.value for k, s in snap.allocation.shares().items()},
        layer_ranges={k: s.bounds for k, s in snap.layer_mix.shares().items()},
        allocation_ranges={k: s.bounds for k, s in snap.allocation.shares().items()},
        archetype=a.classification.archetype,
        tags=a.classification.tags,
        explanation=f"{a.classification.archetype}: {a.classification.rule}",
        checks=a.classification.checks,
        tag_checks=a.classification.tag_checks,
        metrics=a.metrics,
        estimated=not all(e.disclosed for e in inputs),
        sources=cited_sources(universe, snap),
    )


def profile(universe: Universe, company_id: str, period: str | None = None) -> Profile:
    """Everything known about a company in one period: inputs with provenance, metrics, facts."""
    company = universe.companies[company_id]
    a = universe.assess(company, period)
    snap = a.snapshot
    shares = {
        **{f"allocation.{k}": v for k, v in snap.allocation.shares().items()},
        **{f"layer_mix.{k}": v for k, v in snap.layer_mix.shares().items()},
    }
    return Profile(
        company=company.id,
        name=company.name.en,
        name_zh=company.name.zh,
        aliases=company.aliases,
        tickers=company.tickers,
        region=company.region,
        description=company.description.en if company.description else None,
        description_zh=company.description.zh if company.description else None,
        period=snap.period,
        periods=[s.period for s in company.snapshots],
        period_note=snap.period_note,
        ai_capex=Figure.of(snap.ai_capex, unit=snap.ai_capex.currency),
        ai_capex_usd=a.metrics["ai_capex_usd"] or 0.0,
        inputs={k: Figure.of(v, unit="share") for k, v in shares.items()},
        metrics=a.metrics,
        archetype=a.classification.archetype,
        tags=a.classification.tags,
        facts=snap.facts,
        names=_names_of(universe, snap),
        sources=cited_sources(universe, snap),
    )


def _names_of(universe: Universe, snap: Snapshot) -> DisplayNames:
    """The display names of the snapshot's fact keys and unit words (no more: results stay small)."""
    names = universe.names
    units = {f.unit for f in snap.facts.values() if f.unit}
    return DisplayNames(
        facts={k: names.facts[k] for k in snap.facts if k in names.facts},
        units={u: names.units[u] for u in units if u in names.units},
    )
