"""Archetype rules (DESIGN §1): deterministic, thresholds from data, the fired rule explained."""

from __future__ import annotations

from collections.abc import Mapping

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


def _check(metric: str, value: float, op: str, threshold: float) -> RuleCheck:
    holds = value >= threshold if op == ">=" else value < threshold
    return RuleCheck(metric=metric, value=value, op=op, threshold=threshold, holds=holds)


def classify(
    metrics: Mapping[str, float | None], edge_share: float, t: Thresholds
) -> Classification:
    """Evaluate supplier, dual, self_user in order; the first rule whose checks all hold fires."""
    external = metrics["external_supply_share"] or 0.0
    own = metrics["self_use_inference_share"] or 0.0
    rules = {
        "supplier": [_check("external_supply_share", external, ">=", t.supplier_external_min)],
        "dual": [
            _check("external_supply_share", external, ">=", t.dual_external_min),
            _check("own_inference", own, ">=", t.dual_own_inference_min),
        ],
        "self_user": [
            _check("own_inference", own, ">=", t.self_user_own_inference_min),
            _check("external_supply_share", external, "<", t.self_user_external_max),
        ],
    }
    edge = _check("layer_mix.edge", edge_share, ">=", t.edge_builder_edge_min)
    tags = ["edge_builder"] if edge.holds else []
    for name, checks in rules.items():
        if all(c.holds for c in checks):
            rule = " and ".join(str(c) for c in checks)
            return Classification(
                archetype=name, rule=rule, checks=checks, tags=tags, tag_checks=[edge]
            )
    failed = [c for checks in rules.values() for c in checks if not c.holds]
    rule = "no rule matched: " + "; ".join(str(c) for c in failed)
    return Classification(
        archetype="unclassified", rule=rule, checks=failed, tags=tags, tag_checks=[edge]
    )
