"""The dataset's typed records: what a data file may say, checked field by field.

Every model forbids unknown fields, so a typo in a hand-edited YAML file is an error,
never a silently ignored value.
"""

from __future__ import annotations

import datetime as dt
import re
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
FACT_KEY = r"^[a-z][a-z0-9_]*$"  # snake_case: rd_expense, maas_arr_target
CURRENCY = r"^[A-Z]{3}$"  # ISO 4217; a fact unit of this form is money, not a word

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


_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _text_from_plain(value: object) -> object:
    """A plain string (files written before texts were bilingual) is taken as the language
    it is written in: Chinese when it has CJK characters, else English."""
    if isinstance(value, str):
        return {"zh": value} if _CJK.search(value) else {"en": value}
    return value


class Text(Strict):
    """A human text in Chinese and English; one may be missing (`check` reports it), not both.

    Exported as a {zh, en} mapping (the keys it has), which imports back unchanged.
    """

    zh: str | None = None
    en: str | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Text:
        if not (self.zh or self.en):
            raise ValueError("a text needs zh or en")
        return self

    def pick(self, lang: str) -> str:
        """The text in `lang`, else in the other language (never nothing)."""
        first, second = (self.zh, self.en) if lang == "zh" else (self.en, self.zh)
        return first or second or ""

    def missing(self) -> list[str]:
        return [lang for lang in ("zh", "en") if not getattr(self, lang)]


# Every human text field of the data: a {zh, en} mapping, or a plain string (the old format).
Note = Annotated[Text, BeforeValidator(_text_from_plain)]


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
    note: Note | None = None
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

    currency: Annotated[str, Field(pattern=CURRENCY)]

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

    value: float | Note
    unit: str | None = None
    disclosed: bool = True
    sources: list[str] = Field(default_factory=list)
    note: Note | None = None
    as_of: dt.date | None = None


def is_currency(unit: str) -> bool:
    return re.fullmatch(CURRENCY, unit) is not None


def _period_text(value: object) -> object:
    """Let humans write `period: 2024` unquoted (YAML reads it as an int)."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Period = Annotated[str, BeforeValidator(_period_text), Field(pattern=PERIOD)]
FactKey = Annotated[str, Field(pattern=FACT_KEY)]
# Display names: fact key → text, and unit word → text.
FactNames = dict[FactKey, Note]
UnitNames = dict[str, Note]


class Snapshot(Strict):
    """A company's inputs for one period (a calendar-year label)."""

    period: Period
    period_note: Note | None = None
    ai_capex: Money
    allocation: Allocation
    layer_mix: LayerMix
    facts: dict[FactKey, Fact] = Field(default_factory=dict)


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
    currency: Annotated[str, Field(pattern=CURRENCY)]
    usd_per_unit: Annotated[float, Field(gt=0)]
    sources: list[str] = Field(default_factory=list)
    note: Note | None = None


class Thresholds(Strict):
    """Archetype rule thresholds (DESIGN §1); kept in data so analysts can tune them."""

    supplier_external_min: float = 0.5
    dual_external_min: float = 0.2
    dual_own_inference_min: float = 0.2
    self_user_own_inference_min: float = 0.5
    self_user_external_max: float = 0.2
    edge_builder_edge_min: float = 0.4


class DisplayNames(Strict):
    """What readers see for a fact key (`rd_expense` → 研发费用 / R&D expense) and for a
    non-currency unit word (`devices` → 台设备 / devices); data, so analysts extend it."""

    facts: FactNames = Field(default_factory=dict)
    units: UnitNames = Field(default_factory=dict)

    def fact(self, key: str, lang: str) -> str:
        """A fact key's name in `lang`; an unnamed key is shown as its words (`net_loss` → net loss)."""
        name = self.facts.get(key)
        return name.pick(lang) if name else key.replace("_", " ")

    def unit(self, unit: str, lang: str) -> str:
        """A unit word in `lang`; currencies and unnamed units are shown as written."""
        name = self.units.get(unit)
        return name.pick(lang) if name else unit


class Dataset(Strict):
    """What one data file holds; every section is optional so a file can carry a part.

    `facts` and `units` are the display names of fact keys and unit words (data/facts.yaml).
    """

    schema_version: Literal[1] = 1
    sources: list[Source] = Field(default_factory=list)
    fx: list[FxRate] = Field(default_factory=list)
    thresholds: Thresholds | None = None
    facts: FactNames = Field(default_factory=dict)
    units: UnitNames = Field(default_factory=dict)
    companies: list[Company] = Field(default_factory=list)

    def display_names(self) -> DisplayNames:
        return DisplayNames(facts=self.facts, units=self.units)
