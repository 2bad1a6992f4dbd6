"""`check` finds each problem class on crafted data, and the shipped data passes it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from conftest import BASE, company

from bot.cli.main import main
from tools.check import check
from tools.dataio import are_shipped, load_files, shipped_files
from tools.universe import Universe

TODAY = dt.date(2026, 11, 29)


def kinds(report) -> set[tuple[str, str]]:
    return {(f.level, f.kind) for f in report.findings}


def test_each_problem_class(make_dataset):
    unsourced = company("unsourced", 0.5, spread=0.1)
    unsourced["snapshots"][0]["allocation"]["own_inference"]["sources"] = []
    unexplained = company("unexplained", 0.55)
    unexplained["snapshots"][0]["ai_capex"]["note"] = None
    close_call = [company("near1", 0.40, spread=0.2), company("near2", 0.39, spread=0.2)]
    sources = [
        {"id": "src", "title": "Old", "publisher": "P", "date": "2024-06-01", "kind": "news"},
        {"id": "orphan", "title": "Never cited", "publisher": "P", "kind": "news"},
    ]
    ds = make_dataset(unsourced, unexplained, *close_call, sources=sources)
    report = check(Universe.from_dataset(ds), TODAY)
    assert kinds(report) == {
        ("error", "no_source"),
        ("error", "no_note"),
        ("warning", "stale"),
        ("warning", "unused_source"),
        ("warning", "coin_flip"),
    }
    where = {f.kind: f.where for f in report.findings}
    assert where["no_source"] == "unsourced 2025 allocation.own_inference"
    assert where["no_note"] == "unexplained 2025 ai_capex"
    assert where["unused_source"] == "orphan"
    assert where["coin_flip"] == "near1/near2"


def test_disclosed_figures_need_no_note_and_fresh_ones_are_not_stale(make_dataset):
    record = company("clean", 0.5)
    record["snapshots"][0]["ai_capex"].update(note=None, disclosed=True, as_of="2026-06-30")
    report = check(Universe.from_dataset(make_dataset(record)), TODAY)
    assert ("error", "no_note") not in kinds(report)
    assert not [f for f in report.findings if f.where == "clean 2025 ai_capex"]


def test_cli_exit_code_follows_errors(tmp_path, capsys):
    bad = company("bad", 0.5)
    bad["snapshots"][0]["layer_mix"]["edge"]["note"] = None
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**BASE, "companies": [bad]}), encoding="utf-8")
    assert main(["check", str(path), "--today", "2026-11-29"]) == 1
    out = capsys.readouterr().out
    assert "ERROR [no_note] bad 2025 layer_mix.edge" in out


def test_shipped_data_has_no_errors_and_every_source_is_used():
    report = check(Universe.from_dataset(load_files(shipped_files())), TODAY, shipped=True)
    assert report.errors == []
    assert not [f for f in report.findings if f.kind == "unused_source"]


def one_language(make_dataset):
    """Notes in English only, a fact key and a unit without display names, a half name."""
    record = company("mono", 0.5)
    snap = record["snapshots"][0]
    snap["ai_capex"]["note"] = "English only"
    snap["period_note"] = {"zh": "只有中文"}
    snap["facts"] = {
        "robots": {"value": 12.0, "unit": "robots", "sources": ["src"]},
        "revenue": {"value": 1.0e9, "unit": "USD", "sources": ["src"]},
    }
    return make_dataset(record, facts={"revenue": {"en": "Revenue"}})


@pytest.mark.parametrize(("shipped", "level"), [(True, "error"), (False, "warning")])
def test_missing_translations(make_dataset, shipped, level):
    report = check(Universe.from_dataset(one_language(make_dataset)), TODAY, shipped=shipped)
    found = {
        (f.level, f.kind, f.where, f.message)
        for f in report.findings
        if f.kind in ("untranslated", "no_display_name")
    }
    assert found == {
        (level, "untranslated", "mono 2025 ai_capex.note", "no zh text"),
        (level, "untranslated", "mono 2025 period_note", "no en text"),
        (level, "untranslated", "facts.revenue", "no zh text"),
        (level, "no_display_name", "facts.robots", "fact key 'robots' has no display name"),
        (level, "no_display_name", "units.robots", "unit 'robots' has no display name"),
    }  # a currency unit (USD) needs no name


def test_cli_warns_of_missing_translations_in_other_files(tmp_path, capsys):
    record = company("mono", 0.5)
    record["snapshots"][0]["ai_capex"]["note"] = "English only"
    path = tmp_path / "mono.yaml"
    path.write_text(yaml.safe_dump({**BASE, "companies": [record]}), encoding="utf-8")
    assert not are_shipped([path]) and not are_shipped([*shipped_files(), path])
    assert main(["check", str(path), "--today", "2026-11-29"]) == 0
    assert "WARNING [untranslated] mono 2025 ai_capex.note: no zh text" in capsys.readouterr().out


def test_cli_holds_the_shipped_files_to_errors(capsys):
    """`make test` checks data/*.yaml data/companies/*.yaml: those are the shipped files, so a
    missing translation there is an error (none is left once every note is translated)."""
    data = Path(__file__).parent.parent / "data"
    paths = sorted(data.glob("*.yaml")) + sorted((data / "companies").glob("*.yaml"))
    assert are_shipped(paths)
    main(["check", *map(str, paths), "--today", "2026-11-29"])
    out = capsys.readouterr().out
    assert "WARNING [untranslated]" not in out and "WARNING [no_display_name]" not in out
