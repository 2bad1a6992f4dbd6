"""Bilingual data: texts are {zh, en} pairs that export and import unchanged, files written in
one language (the old format) still import, and fact keys and units have display names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import BASE, company

from tools.dataio import read_file, validate
from tools.errors import DataError
from tools.models import Text
from tools.store import Store

CLI = Path(sys.executable).parent / "inference-lens"


def cli(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "INFERENCE_LENS_DB": str(db)}
    return subprocess.run(
        [str(CLI), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def single_language(cid: str, note: str, label: str) -> dict[str, Any]:
    """A file as written before texts were bilingual: every text a plain string."""
    record = company(cid, 0.6)
    snap = record["snapshots"][0]
    snap["period_note"] = note
    for group in ("allocation", "layer_mix"):
        for share in snap[group].values():
            share["note"] = note
    snap["ai_capex"]["note"] = note
    snap["facts"] = {
        "gpu_cluster": {"value": label, "sources": ["src"], "note": note},
        "devices_sold": {"value": 1.0e6, "unit": "devices", "sources": ["src"]},
    }
    fx = [{**rate, "note": note} for rate in BASE["fx"]]
    return {**BASE, "fx": fx, "companies": [record]}


def write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def texts(node: Any) -> list[Any]:
    """Every value under a `note`, `period_note` or text `value` key, anywhere in a tree."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("note", "period_note") or (key == "value" and not isinstance(value, float)):
                found.append(value)
            found += texts(value)
    elif isinstance(node, list):
        for item in node:
            found += texts(item)
    return found


@pytest.mark.parametrize(
    ("note", "label", "lang", "other"),
    [
        ("Estimated from the annual report.", "A 10,000-GPU cluster", "en", "zh"),
        ("根据年报估算。", "万卡集群", "zh", "en"),
    ],
)
def test_old_single_language_file_imports(tmp_path, note, label, lang, other):
    path = write(tmp_path / "old.yaml", single_language("oldco", note, label))
    store = Store.open(tmp_path / "lens.db")
    assert store.import_file(path).revision is not None
    snap = store.universe().companies["oldco"].snapshots[0]
    assert snap.ai_capex.note == Text(**{lang: note})
    assert snap.period_note is not None and snap.period_note.missing() == [other]
    assert snap.facts["gpu_cluster"].value == Text(**{lang: label})
    # asked in the missing language, a text falls back to the one it has
    assert snap.ai_capex.note.pick(other) == note
    assert store.universe().fx[("2025", "USD")].note == Text(**{lang: note})


def test_export_writes_pairs_and_imports_unchanged(tmp_path):
    db = tmp_path / "lens.db"
    old = write(tmp_path / "old.yaml", single_language("oldco", "Estimated.", "A cluster"))
    assert cli(db, "import", str(old)).returncode == 0
    exported = cli(db, "export")
    assert exported.returncode == 0, exported.stderr
    data = yaml.safe_load(exported.stdout)
    found = texts(data)
    assert found and all(isinstance(t, dict) and set(t) <= {"zh", "en"} for t in found)
    assert data["facts"]["rd_expense"] == {"zh": "研发费用", "en": "R&D expense"}
    assert data["units"]["devices"] == {"zh": "台设备", "en": "devices"}
    path = tmp_path / "export.yaml"
    path.write_text(exported.stdout, encoding="utf-8")
    again = cli(db, "import", str(path))
    assert again.returncode == 0, again.stderr
    assert "no revision created" in again.stdout


@pytest.mark.parametrize("note", [{}, {"zh": None, "en": None}, {"zh": "", "en": ""}, ""])
def test_a_text_with_neither_language_is_refused(tmp_path, note):
    record = company("blank", 0.6)
    record["snapshots"][0]["ai_capex"]["note"] = note
    path = write(tmp_path / "blank.yaml", {**BASE, "companies": [record]})
    with pytest.raises(DataError) as exc:
        validate(read_file(path))
    (problem,) = exc.value.problems
    assert problem.where == "id blank, period 2025, field ai_capex.note"
    assert "a text needs zh or en" in problem.message


def test_display_names_come_with_the_shipped_data_and_imports_extend_them(store, tmp_path):
    names = store.universe().names
    assert names.fact("rd_expense", "zh") == "研发费用"
    assert names.fact("rd_expense", "en") == "R&D expense"
    assert names.unit("vehicles", "zh") == "辆"
    # an unnamed key reads as its words; a currency as its code
    assert names.fact("new_metric_q3", "en") == "new metric q3"
    assert names.unit("CNY", "zh") == "CNY"
    glossary = {
        "facts": {"new_metric_q3": {"zh": "第三季度新指标", "en": "New metric, Q3"}},
        "units": {"robots": "台机器人"},
    }
    result = store.import_file(write(tmp_path / "names.yaml", glossary))
    assert result.changes == ["display_names fact/new_metric_q3", "display_names unit/robots"]
    names = store.universe().names
    assert names.fact("new_metric_q3", "zh") == "第三季度新指标"
    assert names.unit("robots", "en") == "台机器人"  # only zh given: falls back
    assert names.fact("rd_expense", "en") == "R&D expense"  # the shipped names stay


def test_a_fact_key_must_be_snake_case(tmp_path):
    """So each key has one spelling for facts.yaml to name, in a figure and in the names."""
    record = company("oddkey", 0.6)
    record["snapshots"][0]["facts"] = {"R&D": {"value": 1.0, "sources": ["src"]}}
    names = {"facts": {"R&D": {"zh": "研发", "en": "R&D"}}}
    path = write(tmp_path / "bad.yaml", {**BASE, **names, "companies": [record]})
    with pytest.raises(DataError) as exc:
        validate(read_file(path))
    problems = exc.value.problems
    assert [p.where for p in problems] == [
        "field facts.R&D",
        "id oddkey, period 2025, field facts.R&D",
    ]
    assert all(p.message.startswith("key 'R&D': String should match pattern") for p in problems)
