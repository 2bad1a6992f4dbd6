"""A consistent view of the data at one revision: what every computation reads.

A Universe is either built in memory from a Dataset (tests, what-if scenarios) or backed by
the store, which loads the full company records only when something asks for them: a
ranking needs just the numbers (a Frame) and the companies' names.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, ItemsView, Iterator, Mapping, ValuesView
from dataclasses import dataclass
from functools import cached_property

from tools.archetypes import Classification, classify
from tools.errors import UnknownPeriod
from tools.frame import Frame, encode
from tools.keyed import Row
from tools.metrics import normalise, point_metrics
from tools.models import (
    Company,
    CompanyInfo,
    Dataset,
    DisplayNames,
    FxRate,
    Snapshot,
    Source,
    Thresholds,
)


@dataclass(frozen=True)
class Assessment:
    """A company-period's point metrics and archetype."""

    company: Company
    snapshot: Snapshot
    metrics: dict[str, float | None]
    classification: Classification


@dataclass(frozen=True)
class Loaders:
    """How a store-backed universe fetches its parts on first use: every company at once, or
    one (a command about one company need not parse 15,000 snapshots)."""

    companies: Callable[[], dict[str, Company]]
    info: Callable[[], dict[str, CompanyInfo]]
    rows: Callable[[], list[Row]]
    some: Callable[[Collection[str]], dict[str, Company]]


# Companies read one by one (at least; an eighth of them in a big universe) before the rest
# are read in one go: one query per company is fast for a few, slow for a ranking's worth.
_ONE_BY_ONE = 64


class Companies(Mapping[str, Company]):
    """Every company by id (sorted): ids and membership come from the names alone, one
    company is loaded when asked for, and all of them only when all are walked."""

    def __init__(self, loaders: Loaders, info: Callable[[], dict[str, CompanyInfo]]) -> None:
        self._loaders = loaders
        self._info = info
        self._one: dict[str, Company] = {}
        self._all: dict[str, Company] | None = None

    def __getitem__(self, cid: str) -> Company:
        if self._all is not None:
            return self._all[cid]
        if cid not in self._one:
            if cid not in self._info():
                raise KeyError(cid)
            if len(self._one) >= max(_ONE_BY_ONE, len(self) // 8):
                return self.everything()[cid]  # a caller walking them all: read them at once
            self.prefetch([cid])
        return self._one[cid]

    def prefetch(self, ids: Collection[str]) -> None:
        """Load these companies in one go."""
        missing = [cid for cid in ids if cid not in self._one]
        if missing and self._all is None:
            self._one.update(self._loaders.some(missing))

    def peek(self, ids: Collection[str]) -> dict[str, Company]:
        """These companies, read by key and not kept: a diff attributing the inputs of 5,000
        newcomers held 250 MB of their records when it kept them."""
        if self._all is not None:
            return {cid: self._all[cid] for cid in ids}
        read = self._loaders.some([cid for cid in ids if cid not in self._one])
        return {cid: self._one[cid] if cid in self._one else read[cid] for cid in ids}

    def by_key(self, ids: Collection[str]) -> dict[str, Company]:
        """These companies, read by key without every company's names first (the ids come
        from a frame, so they exist): a history names one company per revision."""
        if self._all is not None:
            return {cid: self._all[cid] for cid in ids}
        self.prefetch(ids)
        return {cid: self._one[cid] for cid in ids}

    def __iter__(self) -> Iterator[str]:
        return iter(self._info())

    def __len__(self) -> int:
        return len(self._info())

    def __contains__(self, cid: object) -> bool:
        return cid in self._info()

    def everything(self) -> dict[str, Company]:
        if self._all is None:
            self._all = self._loaders.companies()
        return self._all

    def values(self) -> ValuesView[Company]:
        return self.everything().values()

    def items(self) -> ItemsView[str, Company]:
        return self.everything().items()


class Universe:
    def __init__(
        self,
        *,
        sources: dict[str, Source],
        fx: dict[tuple[str, str], FxRate],
        thresholds: Thresholds,
        loaders: Loaders,
        names: DisplayNames | None = None,
        revision: int | None = None,
    ) -> None:
        self.sources = sources
        self.fx = fx
        self.thresholds = thresholds
        # Display names of fact keys and unit words: `universe.names.fact("rd_expense", "zh")`.
        self.names = names or DisplayNames()
        self.revision = revision
        self._loaders = loaders
        self._assessed: dict[tuple[str, str], Assessment] = {}

    @classmethod
    def from_dataset(cls, ds: Dataset, revision: int | None = None) -> Universe:
        return cls(
            sources={s.id: s for s in ds.sources},
            fx={(f.period, f.currency): f for f in ds.fx},
            thresholds=ds.thresholds or Thresholds(),
            loaders=_in_memory(ds.companies),
            names=ds.display_names(),
            revision=revision,
        )

    @cached_property
    def companies(self) -> Companies:
        """Every company with all its snapshots, by id (sorted); loaded as far as asked."""
        return Companies(self._loaders, lambda: self.info)

    @cached_property
    def info(self) -> dict[str, CompanyInfo]:
        """Names, tickers and regions by id, without the figures."""
        return self._loaders.info()

    @cached_property
    def _rows(self) -> list[Row]:
        return self._loaders.rows()

    def frame(self, period: str | None = None, region: str | None = None) -> Frame:
        """The rows a ranking covers, by company id: one period, or each company's latest."""
        rows = [r for r in self._rows if period is None or r[1] == period]
        if period is None:
            latest: dict[str, Row] = {}
            for row in rows:
                if row[0] not in latest or row[1] > latest[row[0]][1]:
                    latest[row[0]] = row
            rows = list(latest.values())
        if region:
            rows = [r for r in rows if self.info[r[0]].region == region.upper()]
        return Frame.from_rows(sorted(rows), self.fx)

    def to_dataset(self) -> Dataset:
        return Dataset(
            sources=sorted(self.sources.values(), key=lambda s: s.id),
            fx=sorted(self.fx.values(), key=lambda f: (f.period, f.currency)),
            # Defaults need not be written out: importing the export then changes nothing.
            thresholds=None if self.thresholds == Thresholds() else self.thresholds,
            facts=dict(sorted(self.names.facts.items())),
            units=dict(sorted(self.names.units.items())),
            companies=list(self.companies.values()),
        )

    def with_company(self, company: Company) -> Universe:
        """A copy in which one company is replaced (what-if scenarios): the others' numbers
        are shared with this universe, not copied."""
        rows = [
            *(r for r in self._rows if r[0] != company.id),
            *(_row(company.id, s) for s in company.snapshots),
        ]
        companies = self.companies

        def everything() -> dict[str, Company]:
            return {**companies.everything(), company.id: company}

        return Universe(
            sources=self.sources,
            fx=self.fx,
            thresholds=self.thresholds,
            loaders=Loaders(
                companies=everything,
                info=lambda: {**self.info, company.id: company},
                rows=lambda: rows,
                some=lambda ids: {
                    cid: company if cid == company.id else companies[cid] for cid in ids
                },
            ),
            names=self.names,
            revision=self.revision,
        )

    def periods(self) -> list[str]:
        return sorted({r[1] for r in self._rows})

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
        if key not in self._assessed:
            metrics = point_metrics(snap, self.fx)
            mix = normalise({k: s.value for k, s in snap.layer_mix.shares().items()})
            cls = classify(metrics, float(mix["edge"]), self.thresholds)
            self._assessed[key] = Assessment(company, snap, metrics, cls)
        return self._assessed[key]


def _row(cid: str, snap: Snapshot) -> Row:
    return (cid, snap.period, snap.ai_capex.currency, encode(snap))


def _in_memory(companies: list[Company]) -> Loaders:
    by_id = {c.id: c for c in sorted(companies, key=lambda c: c.id)}
    rows = [_row(c.id, s) for c in by_id.values() for s in c.snapshots]
    return Loaders(
        companies=lambda: by_id,
        info=lambda: dict(by_id),
        rows=lambda: rows,
        some=lambda ids: {cid: by_id[cid] for cid in ids},
    )
