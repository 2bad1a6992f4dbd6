"""Archetype rules (DESIGN §1): deterministic, thresholds from data, the fired rule explained."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel

from tools.models import Thresholds


class RuleCheck(BaseModel):
    """One comparison a rule made: `metric op threshold`, with the value seen."""

    metric: str
    value: float
    op: str
    threshold: float
    holds: bool

    def __str__(self) -> str:
        return f"{self.metric} {self.value:.2f} {self.op} {self.threshold:g}"


class Classification(BaseModel):
    archetype: str
    rule: str
    checks: list[RuleCheck]
    tags: list[str]
    tag_checks: list[RuleCheck]


Check = tuple[str, str, float]  # (input, operator, threshold)


def rules(t: Thresholds) -> dict[str, list[Check]]:
    """The archetype rules of DESIGN §1 in evaluation order; the first that holds fires."""
    return {
        "supplier": [("external_supply_share", ">=", t.supplier_external_min)],
        "dual": [
            ("external_supply_share", ">=", t.dual_external_min),
            ("own_inference", ">=", t.dual_own_inference_min),
        ],
        "self_user": [
            ("own_inference", ">=", t.self_user_own_inference_min),
            ("external_supply_share", "<", t.self_user_external_max),
        ],
    }


def tag_rules(t: Thresholds) -> dict[str, list[Check]]:
    """The secondary tags' rules; each tag holds on its own, beside the archetype."""
    return {"edge_builder": [("layer_mix.edge", ">=", t.edge_builder_edge_min)]}


def _holds(value: Any, op: str, threshold: float) -> Any:
    """`value op threshold` for a float or, element-wise, an array."""
    return value >= threshold if op == ">=" else value < threshold


def _check(metric: str, value: float, op: str, threshold: float) -> RuleCheck:
    return RuleCheck(
        metric=metric,
        value=value,
        op=op,
        threshold=threshold,
        holds=bool(_holds(value, op, threshold)),
    )


def classify(
    metrics: Mapping[str, float | None], edge_share: float, t: Thresholds
) -> Classification:
    """Evaluate supplier, dual, self_user in order; the first rule whose checks all hold fires."""
    inputs = {
        "external_supply_share": metrics["external_supply_share"] or 0.0,
        "own_inference": metrics["self_use_inference_share"] or 0.0,
    }
    evaluated = {
        name: [_check(m, inputs[m], op, th) for m, op, th in checks]
        for name, checks in rules(t).items()
    }
    edge = _check("layer_mix.edge", edge_share, ">=", t.edge_builder_edge_min)
    tags = ["edge_builder"] if edge.holds else []
    for name, checks in evaluated.items():
        if all(c.holds for c in checks):
            rule = " and ".join(str(c) for c in checks)
            return Classification(
                archetype=name, rule=rule, checks=checks, tags=tags, tag_checks=[edge]
            )
    failed = [c for checks in evaluated.values() for c in checks if not c.holds]
    rule = "no rule matched: " + "; ".join(str(c) for c in failed)
    return Classification(
        archetype="unclassified", rule=rule, checks=failed, tags=tags, tag_checks=[edge]
    )


def classify_all(
    metrics: Mapping[str, np.ndarray], edge_share: np.ndarray, t: Thresholds
) -> tuple[list[str], list[list[str]]]:
    """`classify` for many companies at once (same rules), without the explanations."""
    inputs = {
        "external_supply_share": np.nan_to_num(metrics["external_supply_share"]),
        "own_inference": np.nan_to_num(metrics["self_use_inference_share"]),
    }
    result = np.full(len(edge_share), "unclassified", dtype=object)
    decided = np.zeros(len(edge_share), dtype=bool)
    for name, checks in rules(t).items():
        fires = (
            np.logical_and.reduce([_holds(inputs[m], op, th) for m, op, th in checks]) & ~decided
        )
        result[fires] = name
        decided |= fires
    edge = _holds(edge_share, ">=", t.edge_builder_edge_min)
    return list(result), [["edge_builder"] if e else [] for e in edge]
