"""The claims benchmark: honest analyst answers kept, systematic lies caught, gate time.

Each answer of bench/data/claims.yaml (templated over true figures) and of
bench/data/claims_hand.yaml (written by hand, held out from tuning) is checked against the real
tool results of its calls (bot.agent.registry over a fresh database): it must pass with every
claim kept. Each of its perturbations (bench/claims_corpus.py) must be rejected. Prints one JSON
report per corpus; the goals must hold on each.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from claims_corpus import HOLDOUT, load, load_hand, perturb

from bot.agent import grounding
from bot.agent.registry import ToolContext, call
from tools.store import Store

HONEST_MIN, CAUGHT_MIN, KIND_MIN, GATE_MS_MAX = 0.95, 0.99, 0.95, 20.0  # the goals


def evidence_for(entry: dict[str, Any], ctx: ToolContext) -> grounding.Evidence:
    outcomes = [call(c["tool"], c["args"], ctx) for c in entry["calls"]]
    return grounding.Evidence.of(
        [o.result() for o in outcomes],
        [o.arguments for o in outcomes],
        entry["question"],
        grounding.names_of(ctx.universe),
    )


def run() -> dict[str, dict[str, Any]]:
    corpus = load()
    store = Store.open(Path(tempfile.mkdtemp()) / "claims.db")
    contexts = {lang: ToolContext(store, store.universe(), lang) for lang in ("en", "zh")}
    return {
        "templated": measure(corpus["answers"], corpus["names"], contexts),
        "hand": measure(load_hand(), corpus["names"], contexts),
        "holdout": measure(load_hand(HOLDOUT), corpus["names"], contexts),
    }


def measure(
    answers_: list[dict[str, Any]],
    names: dict[str, dict[str, str]],
    contexts: dict[str, ToolContext],
) -> dict[str, Any]:
    kept, times, unbound, claims = 0, [], 0, 0
    caught, total = Counter(), Counter()
    missed: list[dict[str, str]] = []
    dropped: list[dict[str, Any]] = []
    reading: list[float] = []
    for entry in answers_:
        start = time.perf_counter()
        ev = evidence_for(entry, contexts[entry["lang"]])  # runs the tools too: an upper bound
        reading.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        verdict = grounding.check(entry["answer"], ev)
        times.append((time.perf_counter() - start) * 1000)
        unbound, claims = unbound + verdict.unbound, claims + verdict.claims
        if verdict.rejected:
            dropped.append({"id": entry["id"], "rejected": [r.text for r in verdict.rejected]})
        else:
            kept += 1
        for lie in perturb(entry, names):
            total[lie.kind] += 1
            if grounding.check(lie.text, ev).rejected:
                caught[lie.kind] += 1
            else:
                missed.append({"kind": lie.kind, "text": lie.text})
    answers = len(answers_)
    return {
        "answers": answers,
        "questions": len({e["question"] for e in answers_}),
        "honest_kept": round(kept / answers, 4),
        "lies": sum(total.values()),
        "lies_caught": round(sum(caught.values()) / sum(total.values()), 4),
        "caught_by_kind": {k: round(caught[k] / n, 4) for k, n in sorted(total.items())},
        "gate_ms_median": round(statistics.median(times), 2),
        "gate_ms_p90": round(sorted(times)[int(0.9 * len(times))], 2),
        "tools_and_evidence_ms_median": round(statistics.median(reading), 2),
        "claims": claims,
        "unbound_claims": unbound,
        "dropped": dropped,
        "missed": missed,
    }


def met(report: dict[str, Any]) -> bool:
    return (
        report["honest_kept"] >= HONEST_MIN
        and report["lies_caught"] >= CAUGHT_MIN
        and min(report["caught_by_kind"].values()) >= KIND_MIN
        and report["gate_ms_median"] <= GATE_MS_MAX
    )


if __name__ == "__main__":
    reports = run()
    verbose = "-v" in sys.argv
    for name, report in reports.items():
        if not verbose:
            report["dropped"], report["missed"] = len(report["dropped"]), len(report["missed"])
        print(
            json.dumps(
                {"corpus": name, **report}, ensure_ascii=False, indent=1 if verbose else None
            )
        )
    sys.exit(0 if all(met(r) for r in reports.values()) else 1)
