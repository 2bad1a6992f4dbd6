"""The dataset's typed records: what a data file may say, checked field by field.

Every model forbids unknown fields, so a typo in a hand-edited YAML file is an error,
never a silently ignored value.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

SHARE_TOLERANCE = 0.01
SLUG = r"^[a-z0-9][a-z0-9_-]*$"
# ASCII digits only: `\d` would also take "２０２５" and "٢٠٢٥" as periods beside "2025".
PERIOD = r"^[0-9]{4}$"

LAYERS = ("iaas", "maas", "solutions", "edge")
ALLOCATION_KEYS = ("own_training", "own_inference", "external_iaas", "external_maas")


class Strict(BaseModel):
    # No inf or NaN anywhere: JSON cannot store them, so a revision holding one breaks
    # every later read of the company.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# Rows read back from the database were validated when imported; passing this context skips
# the Python-level checks below (the schema itself is still enforced), which makes loading
# thousands of snapshots about 3x faster.
TRUSTED = {"trusted": True}


def _trusted(info: ValidationInfo) -> bool:
    return bool(info.context and info.context.get("trusted"))


class SourceKind(StrEnum):
    filing = "filing"
    earnings_call = "earnings_call"
    company_statement = "company_statement"
    news = "news"
    analyst = "analyst"
    thesis = "thesis"
    our_estimate = "our_estimate"


class Source(Strict):
    """A shared record of where figures come from, referenced by id."""

    id: Annotated[str, Field(pattern=SLUG)]
    title: str
    publisher: str
    date: dt.date | None = None
    url: str | None = None
    kind: SourceKind


class Estimate(Strict):
    """One input figure: a point value, an honest range, and where it came from."""

    value: float
    low: float | None = None
    high: float | None = None
    disclosed: bool = False
    sources: list[str] = Field(default_factory=list)
    note: str | None = None
    as_of: dt.date | None = None

    @model_validator(mode="after")
    def _range_holds_value(self, info: ValidationInfo) -> Estimate:
        if _trusted(info):
            return self
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low ({self.low}) is greater than high ({self.high})")
        if self.low is not None and self.value < self.low:
            raise ValueError(f"value ({self.value}) is below low ({self.low})")
        if self.high is not None and self.value > self.high:
            raise ValueError(f"value ({self.value}) is above high ({self.high})")
        return self

    @property
    def bounds(self) -> tuple[float, float]:
        low = self.value if self.low is None else self.low
        high = self.value if self.high is None else self.high
        return low, high


class Share(Estimate):
    """A share of a whole: every bound lies in [0, 1]."""

    @model_validator(mode="after")
    def _within_unit_interval(self, info: ValidationInfo) -> Share:
        if _trusted(info):
            return self
        for name in ("value", "low", "high"):
            number = getattr(self, name)
            if number is not None and not 0 <= number <= 1:
                raise ValueError(f"{name} ({number}) must lie between 0 and 1")
        return self


class Money(Estimate):
    """An amount of money in one ISO 4217 currency, for one period."""

    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]

    @model_validator(mode="after")
    def _not_negative(self, info: ValidationInfo) -> Money:
        if _trusted(info):
            return self
        for name in ("value", "low", "high"):
            number = getattr(self, name)
            if number is not None and number < 0:
                raise ValueError(f"{name} ({number}) must not be negative")
        return self


def _check_sum(shares: dict[str, Share], what: str) -> None:
    total = sum(s.value for s in shares.values())
    if abs(total - 1) > SHARE_TOLERANCE:
        parts = ", ".join(f"{k}={s.value:g}" for k, s in shares.items())
        raise ValueError(
            f"{what} shares must sum to 1 (±{SHARE_TOLERANCE}); got {total:.3f} ({parts})"
        )


class Allocation(Strict):
    """How a company's AI compute is used; the four shares sum to 1."""

    own_training: Share
    own_inference: Share
    external_iaas: Share
    external_maas: Share

    @model_validator(mode="after")
    def _sums_to_one(self, info: ValidationInfo) -> Allocation:
        if _trusted(info):
            return self
        _check_sum(self.shares(), "allocation")
        return self

    def shares(self) -> dict[str, Share]:
        return {k: getattr(self, k) for k in ALLOCATION_KEYS}


class LayerMix(Strict):
    """How a company's AI business spreads over the four layers; sums to 1."""

    iaas: Share
    maas: Share
    solutions: Share
    edge: Share

    @model_validator(mode="after")
    def _sums_to_one(self, info: ValidationInfo) -> LayerMix:
        if _trusted(info):
            return self
        _check_sum(self.shares(), "layer_mix")
        return self

    def shares(self) -> dict[str, Share]:
        return {k: getattr(self, k) for k in LAYERS}


class Fact(Strict):
    """Context that is shown, never ranked: cloud revenue, tokens a day, devices."""

    value: float | str
    unit: str | None = None
    disclosed: bool = True
    sources: list[str] = Field(default_factory=list)
    note: str | None = None
    as_of: dt.date | None = None


def _period_text(value: object) -> object:
    """Let humans write `period: 2024` unquoted (YAML reads it as an int)."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Period = Annotated[str, BeforeValidator(_period_text), Field(pattern=PERIOD)]


class Snapshot(Strict):
    """A company's inputs for one period (a calendar-year label)."""

    period: Period
    period_note: str | None = None
    ai_capex: Money
    allocation: Allocation
    layer_mix: LayerMix
    facts: dict[str, Fact] = Field(default_factory=dict)


class Names(Strict):
    zh: str
    en: str


class CompanyInfo(Strict):
    """Who a company is: names, tickers, region (its figures live in snapshots)."""

    id: Annotated[str, Field(pattern=SLUG)]
    name: Names
    aliases: list[str] = Field(default_factory=list)
    tickers: list[str] = Field(default_factory=list)
    region: Annotated[str, Field(pattern=r"^[A-Z]{2,3}$")]
    description: Names | None = None


class Company(CompanyInfo):
    snapshots: list[Snapshot] = Field(min_length=1)

    @field_validator("snapshots")
    @classmethod
    def _periods_unique(cls, snapshots: list[Snapshot]) -> list[Snapshot]:
        seen = [s.period for s in snapshots]
        duplicates = sorted({p for p in seen if seen.count(p) > 1})
        if duplicates:
            raise ValueError(f"period listed twice: {', '.join(duplicates)}")
        return sorted(snapshots, key=lambda s: s.period)

    def snapshot(self, period: str | None = None) -> Snapshot | None:
        """The snapshot for a period, or the latest one when no period is named."""
        if period is None:
            return self.snapshots[-1]
        return next((s for s in self.snapshots if s.period == period), None)


class FxRate(Strict):
    """USD value of one unit of a currency, averaged over a period."""

    period: Period
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    usd_per_unit: Annotated[float, Field(gt=0)]
    sources: list[str] = Field(default_factory=list)
    note: str | None = None


class Thresholds(Strict):
    """Archetype rule thresholds (DESIGN §1); kept in data so analysts can tune them."""

    supplier_external_min: float = 0.5
    dual_external_min: float = 0.2
    dual_own_inference_min: float = 0.2
    self_user_own_inference_min: float = 0.5
    self_user_external_max: float = 0.2
    edge_builder_edge_min: float = 0.4


class Dataset(Strict):
    """What one data file holds; every section is optional so a file can carry a part."""

    schema_version: Literal[1] = 1
    sources: list[Source] = Field(default_factory=list)
    fx: list[FxRate] = Field(default_factory=list)
    thresholds: Thresholds | None = None
    companies: list[Company] = Field(default_factory=list)
