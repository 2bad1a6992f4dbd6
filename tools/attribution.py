"""Attribution: which inputs of a company's snapshot differ between two rankings."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel

from tools.models import Estimate, Snapshot


class InputChange(BaseModel):
    field: str
    old: float | str | None
    new: float | str | None


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
    # Built without re-validation: the values come from validated snapshots, and an import
    # of 5,000 new companies attributes 190,000 of them.
    return [
        InputChange.model_construct(field=k, old=a.get(k), new=b.get(k))
        for k in dict.fromkeys([*a, *b])
        if a.get(k) != b.get(k)
    ]
