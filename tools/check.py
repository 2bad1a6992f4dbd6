"""The data check: what the schema cannot see, reported as errors (exit non-zero) or warnings."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel

from tools.dataio import cited_source_ids
from tools.models import Company, Estimate, Fact, Snapshot, Text, is_currency
from tools.ranking import rank
from tools.universe import Universe

STALE_AFTER = dt.timedelta(days=365)
COIN_FLIP = (0.35, 0.65)  # P(A above B) inside this band: the order is close to a coin flip


class Finding(BaseModel):
    level: Literal["error", "warning"]
    kind: Literal[
        "no_source",
        "no_note",
        "stale",
        "unused_source",
        "coin_flip",
        "untranslated",
        "no_display_name",
    ]
    where: str
    message: str


class Neighbours(BaseModel):
    upper: str
    lower: str
    p_above: float


class CheckReport(BaseModel):
    companies: int
    sources: int
    findings: list[Finding]
    neighbours: list[Neighbours]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]


def _figures(snap: Snapshot) -> Iterator[tuple[str, Estimate | Fact]]:
    yield "ai_capex", snap.ai_capex
    for group in ("allocation", "layer_mix"):
        for key, share in getattr(snap, group).shares().items():
            yield f"{group}.{key}", share
    for key, fact in snap.facts.items():
        yield f"facts.{key}", fact


def _figure_findings(company: Company, snap: Snapshot) -> Iterator[Finding]:
    for field, fig in _figures(snap):
        where = f"{company.id} {snap.period} {field}"
        if not fig.sources:
            yield Finding(
                level="error", kind="no_source", where=where, message="figure cites no source"
            )
        if not fig.disclosed and not fig.note:
            yield Finding(
                level="error",
                kind="no_note",
                where=where,
                message="estimate has no note saying how it was reached",
            )


def _dated(universe: Universe, fig: Estimate | Fact) -> dt.date | None:
    """A figure's date: its as_of, else the newest date among its sources."""
    if fig.as_of:
        return fig.as_of
    dates = [universe.sources[s].date for s in fig.sources if s in universe.sources]
    return max((d for d in dates if d), default=None)


def _stale(universe: Universe, company: Company, today: dt.date) -> Iterator[Finding]:
    """The latest period's figures that are more than 12 months old."""
    snap = company.snapshots[-1]
    for field, fig in _figures(snap):
        date = _dated(universe, fig)
        if date and today - date > STALE_AFTER:
            message = f"latest figure dates from {date}, more than 12 months ago"
            yield Finding(
                level="warning",
                kind="stale",
                where=f"{company.id} {snap.period} {field}",
                message=message,
            )


def _texts(universe: Universe) -> Iterator[tuple[str, Text]]:
    """Every human text of the data, with its place."""
    for company in universe.companies.values():
        for snap in company.snapshots:
            if snap.period_note:
                yield f"{company.id} {snap.period} period_note", snap.period_note
            for field, fig in _figures(snap):
                if fig.note:
                    yield f"{company.id} {snap.period} {field}.note", fig.note
                if isinstance(fig, Fact) and isinstance(fig.value, Text):
                    yield f"{company.id} {snap.period} {field}.value", fig.value
    for rate in universe.fx.values():
        if rate.note:
            yield f"fx {rate.period}/{rate.currency} note", rate.note
    for key, name in universe.names.facts.items():
        yield f"facts.{key}", name
    for unit, name in universe.names.units.items():
        yield f"units.{unit}", name


def _unnamed(universe: Universe) -> Iterator[tuple[str, str]]:
    """Fact keys and non-currency unit words the data uses without a display name."""
    facts = [
        (key, fact)
        for company in universe.companies.values()
        for snap in company.snapshots
        for key, fact in snap.facts.items()
    ]
    for key in sorted({key for key, _ in facts} - set(universe.names.facts)):
        yield f"facts.{key}", f"fact key '{key}' has no display name"
    units = {fact.unit for _, fact in facts if fact.unit and not is_currency(fact.unit)}
    for unit in sorted(units - set(universe.names.units)):
        yield f"units.{unit}", f"unit '{unit}' has no display name"


def _translation_findings(
    universe: Universe, level: Literal["error", "warning"]
) -> Iterator[Finding]:
    for where, text in _texts(universe):
        for lang in text.missing():
            yield Finding(level=level, kind="untranslated", where=where, message=f"no {lang} text")
    for where, message in _unnamed(universe):
        yield Finding(level=level, kind="no_display_name", where=where, message=message)


def check(
    universe: Universe, today: dt.date | None = None, *, shipped: bool = False
) -> CheckReport:
    """Check provenance, freshness, source use, translations and ranking robustness.

    A missing translation is an error in the shipped data (every shipped text has zh and en)
    and a warning elsewhere: an analyst's import in one language is still usable.
    """
    today = today or dt.date.today()
    findings: list[Finding] = []
    for company in universe.companies.values():
        for snap in company.snapshots:
            findings += _figure_findings(company, snap)
        findings += _stale(universe, company, today)
    used = cited_source_ids(universe.to_dataset())
    for sid in sorted(set(universe.sources) - used):
        findings.append(
            Finding(
                level="warning", kind="unused_source", where=sid, message="source is never cited"
            )
        )
    findings += _translation_findings(universe, "error" if shipped else "warning")
    neighbours = []
    rows = rank(universe).rows
    for upper, lower in itertools.pairwise(rows):
        p = upper.above_next.p if upper.above_next else 0.0
        neighbours.append(Neighbours(upper=upper.company, lower=lower.company, p_above=p))
        if COIN_FLIP[0] <= p <= COIN_FLIP[1]:
            message = f"P({upper.company} above {lower.company}) = {p:.2f}: the order is close to a coin flip"
            findings.append(
                Finding(
                    level="warning",
                    kind="coin_flip",
                    where=f"{upper.company}/{lower.company}",
                    message=message,
                )
            )
    return CheckReport(
        companies=len(universe.companies),
        sources=len(universe.sources),
        findings=findings,
        neighbours=neighbours,
    )
