"""The command line as users and scripts use it: every command, both languages, JSON contracts."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.main import COMMANDS, main
from bot.text.markup import width
from tools.taxonomy import METRICS

README = Path(__file__).resolve().parent.parent / "README.md"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def run_json(capsys, *argv: str) -> dict:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_rank_json_contract(capsys):
    data = run_json(capsys, "rank")
    assert {"metric", "period", "rows"} <= set(data)
    assert data["metric"] == "self_use_inference_share" and data["period"] == "latest"
    row = data["rows"][0]
    assert {"rank", "company", "name", "value", "p10", "p90", "archetype", "tags"} <= set(row)
    assert [r["rank"] for r in data["rows"]] == list(range(1, len(data["rows"]) + 1))
    top = run_json(capsys, "rank", "--top", "1")
    assert len(top["rows"]) == 1 and top["rows"][0] == data["rows"][0]


@pytest.mark.parametrize("metric", list(METRICS))
def test_rank_by_every_metric(capsys, metric):
    data = run_json(capsys, "rank", "--metric", metric)
    values = [r["value"] for r in data["rows"] if r["value"] is not None]
    assert values == sorted(values, reverse=True)
    assert all(r["p10"] <= r["p90"] for r in data["rows"] if r["p10"] is not None)


def test_tiers_json_contract(capsys):
    data = run_json(capsys, "tiers", "小米")
    assert data["company"] == "xiaomi" and data["name"] == "Xiaomi"
    assert set(data["layer_mix"]) == {"iaas", "maas", "solutions", "edge"}
    assert data["archetype"] == "self_user" and "edge_builder" in data["tags"]
    assert data["explanation"].startswith("self_user: own_inference")
    assert "self_use_inference_share" in data["metrics"]
    assert data["sources"] and {"id", "title", "publisher", "kind"} <= set(data["sources"][0])


@pytest.mark.parametrize("query", ["xiaomi", "XIAOMI", "小米", "1810.HK", "1810", "ＸＩＡＯＭＩ"])
def test_company_by_any_name(capsys, query):
    assert run_json(capsys, "tiers", query)["company"] == "xiaomi"


def test_unknown_company_suggests_and_exits_1(capsys):
    code, _, err = run(capsys, "tiers", "xiaomy")
    assert code == 1 and "Did you mean: xiaomi?" in err
    code, _, err = run(capsys, "tiers", "nonexistent-co")
    assert code == 1 and "No company called 'nonexistent-co'" in err
    code, _, err = run(capsys, "--lang", "zh", "tiers", "xiaomy")
    assert code == 1 and "找不到公司“xiaomy”" in err and "xiaomi" in err


def test_human_output_in_both_languages(capsys):
    _, en, _ = run(capsys, "--lang", "en", "rank")
    assert en.startswith("Ranking by self-use inference share")
    assert "Rank" in en and "p10–p90" in en
    _, zh, _ = run(capsys, "--lang", "zh", "rank")
    assert zh.startswith("按自用推理占比排名")
    _, tiers_zh, _ = run(capsys, "--lang", "zh", "tiers", "xiaomi")
    assert "边缘推理" in tiers_zh and "触发规则" in tiers_zh


def test_table_columns_align_with_chinese_names(capsys):
    _, zh, _ = run(capsys, "--lang", "zh", "rank")
    rows = [ln for ln in zh.splitlines() if re.match(r"\s*\d+\s", ln)]
    assert len(rows) >= 2
    # the period column starts at the same display column whatever the name's script
    starts = {width(ln[: re.search(r"\b20\d\d\b", ln).start()]) for ln in rows}
    assert len(starts) == 1


def test_compare_history_whatif_sources(capsys):
    code, _, err = run(capsys, "compare", "xiaomi", "小米")
    assert code == 2 and "at least two different companies" in err
    wi = run_json(capsys, "whatif", "xiaomi", "own_inference=0.1")
    assert wi["scenario"]["metrics"]["self_use_inference_share"] == pytest.approx(0.1, abs=1e-4)
    assert wi["baseline"]["metrics"]["self_use_inference_share"] > 0.5
    code, _, err = run(capsys, "whatif", "xiaomi", "roe=0.1")
    assert code == 2 and "cannot override 'roe'" in err
    hist = run_json(capsys, "history", "xiaomi")
    assert hist["company"] == "xiaomi" and hist["periods"]
    src = run_json(capsys, "sources")
    assert any(s["kind"] == "thesis" for s in src["sources"])
    company_sources = run_json(capsys, "sources", "xiaomi")
    assert len(company_sources["sources"]) < len(src["sources"])


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_export_then_import_is_a_no_op(capsys, tmp_path, fmt):
    code, out, _ = run(capsys, "export", "--format", fmt)
    assert code == 0
    path = tmp_path / f"export.{fmt}"
    path.write_text(out, encoding="utf-8")
    code, out, err = run(capsys, "import", str(path))
    assert code == 0, err
    assert "no revision created" in out


def test_every_command_is_documented_in_the_readme():
    text = README.read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"inference-lens {name}" in text, f"README does not document `{name}`"


def test_installed_console_script(tmp_path):
    env = {**os.environ, "INFERENCE_LENS_DB": str(tmp_path / "cli.db")}
    script = Path(sys.executable).parent / "inference-lens"
    done = subprocess.run(
        [str(script), "rank", "--json"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"]
    assert (tmp_path / "cli.db").exists()
