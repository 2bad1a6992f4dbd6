"""`check` finds each problem class on crafted data, and the shipped data passes it."""

from __future__ import annotations

import datetime as dt

import yaml
from conftest import BASE, company

from bot.cli import main
from tools.check import check
from tools.dataio import load_files, shipped_files
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
