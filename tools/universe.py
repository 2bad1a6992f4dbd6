"""A consistent view of the data at one revision: what every computation reads."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from tools.archetypes import Classification, classify
from tools.errors import UnknownPeriod
from tools.metrics import normalise, point_metrics
from tools.models import Company, Dataset, FxRate, Snapshot, Source, Thresholds


@dataclass(frozen=True)
class Assessment:
    """A company-period's point metrics and archetype."""

    company: Company
    snapshot: Snapshot
    metrics: dict[str, float | None]
    classification: Classification


@dataclass(frozen=True)
class Universe:
    companies: dict[str, Company]
    sources: dict[str, Source]
    fx: dict[tuple[str, str], FxRate]
    thresholds: Thresholds
    revision: int | None = None
    _cache: dict[tuple[str, str], Assessment] = field(default_factory=dict, compare=False)

    @classmethod
    def from_dataset(cls, ds: Dataset, revision: int | None = None) -> Universe:
        return cls(
            companies={c.id: c for c in sorted(ds.companies, key=lambda c: c.id)},
            sources={s.id: s for s in ds.sources},
            fx={(f.period, f.currency): f for f in ds.fx},
            thresholds=ds.thresholds or Thresholds(),
            revision=revision,
        )

    def to_dataset(self) -> Dataset:
        return Dataset(
            sources=sorted(self.sources.values(), key=lambda s: s.id),
            fx=sorted(self.fx.values(), key=lambda f: (f.period, f.currency)),
            # Defaults need not be written out: importing the export then changes nothing.
            thresholds=None if self.thresholds == Thresholds() else self.thresholds,
            companies=list(self.companies.values()),
        )

    def with_company(self, company: Company) -> Universe:
        """A copy in which one company is replaced (what-if scenarios)."""
        companies = {**self.companies, company.id: company}
        return replace(self, companies=companies, _cache={})

    def periods(self) -> list[str]:
        return sorted({s.period for c in self.companies.values() for s in c.snapshots})

    def snapshot(self, company: Company, period: str | None) -> Snapshot:
        snap = company.snapshot(period)
        if snap is None:
            have = ", ".join(s.period for s in company.snapshots)
            raise UnknownPeriod(f"{company.name.en} has no data for {period} (has: {have})")
        return snap

    def assess(self, company: Company, period: str | None = None) -> Assessment:
        """Point metrics and archetype of a company in a period (latest when None)."""
        snap = self.snapshot(company, period)
        key = (company.id, snap.period)
        if key not in self._cache:
            metrics = point_metrics(snap, self.fx)
            mix = normalise({k: s.value for k, s in snap.layer_mix.shares().items()})
            cls = classify(metrics, float(mix["edge"]), self.thresholds)
            self._cache[key] = Assessment(company, snap, metrics, cls)
        return self._cache[key]
