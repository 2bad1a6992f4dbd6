"""What-if: override a company's inputs and see its metrics, archetype and rank, without writing."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sized

from pydantic import BaseModel, ValidationError

from tools.errors import BadArgument
from tools.models import ALLOCATION_KEYS, LAYERS, Snapshot
from tools.ranking import rank
from tools.taxonomy import DEFAULT_METRIC
from tools.universe import Universe

OVERRIDABLE = (
    "ai_capex",
    *(f"allocation.{k}" for k in ALLOCATION_KEYS),
    *(f"layer_mix.{k}" for k in LAYERS),
)
# Overrides one scenario may hold: every input once, with room for aliases. The CLI, the
# LLM's tools and Telegram all come here.
MAX_OVERRIDES = 12
_ALIASES = {k.split(".")[1]: k for k in OVERRIDABLE if "." in k} | {
    "external_supply_share": "external_supply_share"
}


class Outcome(BaseModel):
    rank: int
    of: int
    value: float | None
    archetype: str
    tags: list[str]
    metrics: dict[str, float | None]


class WhatIf(BaseModel):
    company: str
    name: str
    name_zh: str
    period: str
    metric: str
    currency: str  # of the company's AI capex, in which an ai_capex override is stated
    overrides: dict[str, float]
    inputs_after: dict[str, float]
    baseline: Outcome
    scenario: Outcome


def parse_overrides(pairs: list[str]) -> dict[str, float]:
    """`key=value` strings to overrides; values may be 0.2, 20% or 1.5e9."""
    _check_count(pairs)
    out: dict[str, float] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep:
            raise BadArgument(f"'{pair}' is not key=value")
        text = raw.strip()
        percent = text.endswith("%")
        try:
            value = float(text.rstrip("%"))
        except ValueError:
            raise BadArgument(f"'{raw}' is not a number (in '{pair}')") from None
        out[key.strip()] = value / 100 if percent else value
    return out


def _check_count(overrides: Sized) -> None:
    if len(overrides) > MAX_OVERRIDES:
        raise BadArgument(
            f"a what-if takes at most {MAX_OVERRIDES} overrides (got {len(overrides)})"
        )


def _field(key: str) -> str:
    field = key if key in OVERRIDABLE else _ALIASES.get(key)
    if field is None:
        raise BadArgument(
            f"cannot override '{key}'; choose from: {', '.join(OVERRIDABLE)}, external_supply_share"
        )
    return field


def apply(snap: Snapshot, overrides: Mapping[str, float]) -> Snapshot:
    """A new snapshot with the overrides; each share group is renormalised so it sums to 1,
    the overridden shares fixed and the others scaled in proportion."""
    groups: dict[str, dict[str, float]] = {
        "allocation": {k: s.value for k, s in snap.allocation.shares().items()},
        "layer_mix": {k: s.value for k, s in snap.layer_mix.shares().items()},
    }
    fixed: dict[str, set[str]] = {"allocation": set(), "layer_mix": set(), "ai_capex": set()}
    capex = snap.ai_capex.value
    for key, value in overrides.items():
        field = _field(key)
        if not math.isfinite(value):
            raise BadArgument(f"{key} must be a finite number (got {value})")
        if field == "external_supply_share":
            _split_external(groups["allocation"], value, fixed["allocation"])
        elif field == "ai_capex":
            if value < 0:
                raise BadArgument("ai_capex must not be negative")
            capex = value
            fixed["ai_capex"] = {"value"}
        else:
            group, name = field.split(".")
            if not 0 <= value <= 1:
                raise BadArgument(f"{field} must be a share between 0 and 1 (got {value:g})")
            groups[group][name] = value
            fixed[group].add(name)
    for group, shares in groups.items():
        _rebalance(shares, fixed[group], group)
    # An overridden group (or capex) becomes a point; an untouched one keeps its values and
    # ranges, so a scenario without overrides ranks exactly like the baseline (ties included,
    # which the ranking orders by their samples).
    data = snap.model_dump()
    if fixed["ai_capex"]:
        data["ai_capex"].update(value=capex, low=None, high=None)
    for group, shares in groups.items():
        if fixed[group]:
            for name, value in shares.items():
                data[group][name].update(value=value, low=None, high=None)
    try:
        return Snapshot.model_validate(data)
    except ValidationError as exc:
        raise BadArgument(
            f"the scenario is not a valid snapshot: {exc.errors()[0]['msg']}"
        ) from None


def _split_external(allocation: dict[str, float], total: float, fixed: set[str]) -> None:
    """Set external_iaas + external_maas to `total`, keeping their current proportion."""
    if not 0 <= total <= 1:
        raise BadArgument(f"external_supply_share must be between 0 and 1 (got {total:g})")
    iaas, maas = allocation["external_iaas"], allocation["external_maas"]
    current = iaas + maas
    share_iaas = iaas / current if current > 0 else 0.5
    allocation["external_iaas"] = total * share_iaas
    allocation["external_maas"] = total * (1 - share_iaas)
    fixed |= {"external_iaas", "external_maas"}


def _rebalance(shares: dict[str, float], fixed: set[str], group: str) -> None:
    if not fixed:
        return  # untouched groups keep their values exactly (no override, no change)
    pinned = sum(shares[k] for k in fixed)
    if pinned > 1 + 1e-9:
        raise BadArgument(f"{group} overrides add up to {pinned:.2f}, more than 1")
    free = [k for k in shares if k not in fixed]
    free_total = sum(shares[k] for k in free)
    for k in free:
        shares[k] = (1 - pinned) * (shares[k] / free_total if free_total > 0 else 1 / len(free))
    if not free and abs(pinned - 1) > 0.01:
        raise BadArgument(
            f"{group} overrides must add up to 1 when all are given (got {pinned:.2f})"
        )


def whatif(
    universe: Universe,
    company_id: str,
    overrides: Mapping[str, float],
    metric: str = DEFAULT_METRIC,
    period: str | None = None,
) -> WhatIf:
    """Baseline and scenario side by side; the universe itself is never changed."""
    _check_count(overrides)
    company = universe.companies[company_id]
    snap = universe.snapshot(company, period)
    scenario_snap = apply(snap, overrides)
    snaps = [scenario_snap if s.period == snap.period else s for s in company.snapshots]
    scenario = universe.with_company(company.model_copy(update={"snapshots": snaps}))
    flat = {
        **{f"allocation.{k}": s.value for k, s in scenario_snap.allocation.shares().items()},
        **{f"layer_mix.{k}": s.value for k, s in scenario_snap.layer_mix.shares().items()},
        "ai_capex": scenario_snap.ai_capex.value,
    }
    return WhatIf(
        company=company.id,
        name=company.name.en,
        name_zh=company.name.zh,
        period=snap.period,
        metric=metric,
        currency=snap.ai_capex.currency,
        overrides={_field(k): v for k, v in overrides.items()},
        inputs_after={k: round(v, 4) for k, v in flat.items()},
        baseline=_outcome(universe, company_id, metric, period),
        scenario=_outcome(scenario, company_id, metric, period),
    )


def _outcome(universe: Universe, company_id: str, metric: str, period: str | None) -> Outcome:
    """The company's place in the same ranking the `rank` command shows for `period`."""
    # The same samples: ties are ordered by them.
    ranking = rank(universe, metric, period, companies={company_id})
    row = ranking.rows[0]
    a = universe.assess(universe.companies[company_id], period)
    return Outcome(
        rank=row.rank,
        of=ranking.total,
        value=row.value,
        archetype=row.archetype,
        tags=row.tags,
        metrics=a.metrics,
    )
