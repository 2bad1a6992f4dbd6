"""Numbers never contradict themselves (issue 10), over every row of the shipped data.

For every metric x period x company: the rank shown lies within the rank range shown and the value
within p10-p90 (1 percentage point for shares, 1% for amounts); a figure that is not meaningful
is unranked, with a reason, after the ranked rows. Checked on what is shown and on the raw
quantiles of the model, so the stretch that guarantees the first never hides a model that is
off-centre.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from tools.ranking import compare, order_of, rank, spreads
from tools.store import Store
from tools.taxonomy import METRICS
from tools.uncertainty import ranks_of, sample_metric

CLI = str(Path(sys.executable).parent / "inference-lens")


@pytest.fixture(scope="module")
def universe(tmp_path_factory):
    return Store.open(tmp_path_factory.mktemp("consistency") / "lens.db").universe()


def tolerance(metric: str, value: float) -> float:
    return 0.01 if METRICS[metric].unit == "share" else 0.01 * abs(value)


def cases(universe) -> list[tuple[str, str | None]]:
    return [(m, p) for m in METRICS for p in [None, *universe.periods()]]


def test_every_shown_row_is_consistent(universe):
    checked = 0
    for metric, period in cases(universe):
        rows = rank(universe, metric, period).rows
        ranked = [r for r in rows if r.rank is not None]
        assert [r.rank for r in ranked] == list(range(1, len(ranked) + 1))
        assert all(r.rank is None for r in rows[len(ranked) :]), "unranked rows come last"
        for r in ranked:
            tol = tolerance(metric, r.value)
            assert r.rank_p10 <= r.rank <= r.rank_p90, (metric, period, r)
            assert r.p10 - tol <= r.value <= r.p90 + tol, (metric, period, r)
            checked += 1
        for r in rows[len(ranked) :]:
            assert r.value is None and r.reason == "undefined_ratio", r
            assert (r.p10, r.p90, r.rank_p10, r.rank_p90, r.above_next) == (None,) * 5
    assert checked > 300


def test_the_model_itself_is_centred_on_the_estimate(universe):
    """Without the stretch: the raw p10-p90 and rank range already hold every figure shown."""
    for metric, period in cases(universe):
        frame = universe.frame(period, None)
        values = frame.point_metrics()[metric]
        draws = sample_metric(frame, metric)
        draws[np.isnan(values)] = np.nan
        raw = spreads(draws, ranks_of(draws))
        for position, i in enumerate(order_of(values, raw[1])):
            if np.isnan(values[i]):
                continue
            p10, _, p90, rank_p10, rank_p90 = raw[:, i]
            tol = tolerance(metric, values[i])
            where = (metric, period, frame.companies[i])
            assert p10 - tol <= values[i] <= p90 + tol, where
            assert rank_p10 <= position + 1 <= rank_p90, where


def test_the_issues_examples_no_longer_contradict_themselves(universe):
    xiaomi = next(
        r for r in rank(universe, "external_supply_share", "2025").rows if r.company == "xiaomi"
    )
    assert xiaomi.p10 <= xiaomi.value <= xiaomi.p90
    assert xiaomi.rank_p10 <= xiaomi.rank <= xiaomi.rank_p90


def test_an_undefined_ratio_is_unranked_with_its_reason_in_json(tmp_path):
    db = tmp_path / "lens.db"
    out = subprocess.run(
        [
            CLI,
            "--db",
            str(db),
            "rank",
            "--metric",
            "inference_self_use_ratio",
            "--period",
            "2024",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = json.loads(out.stdout)["rows"]
    unranked = [r for r in rows if r["reason"] is not None]
    coreweave = next(r for r in unranked if r["company"] == "coreweave")
    assert (coreweave["value"], coreweave["reason"], coreweave["rank"]) == (
        None,
        "undefined_ratio",
        None,
    )
    assert rows[-len(unranked) :] == unranked  # listed after every ranked row
    ranked = rows[: -len(unranked)]
    assert all(r["rank"] is not None and r["value"] is not None for r in ranked)
    assert ranked[-1]["above_next"] is None  # nothing ranked below the last ranked row


def test_the_new_order_is_stated_after_a_move(tmp_path, universe):
    """Baidu 2024 -> 2025: xAI passed it; the history states P(xAI above Baidu) in 2025."""
    db = tmp_path / "lens.db"
    out = subprocess.run(
        [CLI, "--db", str(db), "history", "baidu", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    step = json.loads(out.stdout)["period_changes"][0]
    assert (step["old_period"], step["new_period"]) == ("2024", "2025")
    assert step["new_rank"] > step["old_rank"]  # it fell
    xai = next(p for p in step["passed"] if p["company"] == "xai")
    p_new = compare(universe, ["baidu", "xai"], period="2025").p_above("xai", "baidu")
    assert (xai["company"], xai["above"], xai["p"]) == ("xai", False, p_new)
    assert xai["p"] > 0.5 and xai["level"] in ("likely", "robust")


def cli(db: Path, *argv: str) -> str:
    done = subprocess.run([CLI, "--db", str(db), *argv], capture_output=True, text=True, check=True)
    return done.stdout


def test_the_import_report_states_p_of_the_new_order(tmp_path):
    """An edit moves Baidu above Tencent: the report gives P(the new order holds), the same
    figure `compare` states from the new leader's side."""
    db = tmp_path / "lens.db"
    data = yaml.safe_load(cli(db, "export"))
    baidu = next(c for c in data["companies"] if c["id"] == "baidu")
    allocation = baidu["snapshots"][-1]["allocation"]
    allocation["own_inference"].update(value=0.47, high=0.55)
    allocation["own_training"].update(value=0.12, low=0.05)
    path = tmp_path / "edit.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    report = json.loads(cli(db, "import", str(path), "--json"))
    move = next(m for m in report["moves"] if m["company"] == "baidu")
    tencent = next(p for p in move["passed"] if p["company"] == "tencent")
    [pair] = json.loads(cli(db, "compare", "baidu", "tencent", "--json"))["pairs"]
    assert (pair["leader"], tencent["company"], tencent["above"]) == ("baidu", "tencent", True)
    assert tencent["p"] == pair["p"] and tencent["level"] == pair["level"]


def test_the_text_says_why_a_row_is_unranked(tmp_path):
    db = tmp_path / "lens.db"
    out = cli(db, "rank", "--metric", "inference_self_use_ratio", "--period", "2024")
    assert "inference is under 5% of compute" in out
    zh = cli(
        db, "--lang", "zh", "compare", "coreweave", "oracle", "--metric", "inference_self_use_ratio"
    )
    assert "不参与排名" in zh
