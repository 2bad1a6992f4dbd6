"""`import` refuses bad files with a clear, placed message, exit code 2, and no change."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import BASE, company

from bot.cli.main import main
from tools.store import Store

GOOD: dict[str, Any] = {**BASE, "companies": [company("good", 0.5), company("fine", 0.3)]}


def state(path: Path) -> list[tuple]:
    store = Store.open(path)
    return [tuple(r.model_dump().values()) for r in store.revisions()]


def run_import(
    tmp_path: Path, capsys, text: str | bytes, name: str = "bad.yaml"
) -> tuple[int, str]:
    target = tmp_path / name
    target.write_bytes(text if isinstance(text, bytes) else text.encode())
    code = main(["import", str(target)])
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def mutated(change) -> str:
    data = copy.deepcopy(GOOD)
    change(data)
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def snap(data: dict[str, Any], i: int = 0) -> dict[str, Any]:
    return data["companies"][i]["snapshots"][0]


def set_in(path: list[Any], value: Any):
    def change(data: dict[str, Any]) -> None:
        node = data
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


ALLOC = ["companies", 1, "snapshots", 0, "allocation"]

CASES = {
    "malformed yaml": ("companies: [\n  - id: x\n   bad", "malformed YAML"),
    "malformed json": ('{"companies": [1, 2,]}', "malformed JSON"),
    "empty": ("", "the file is empty"),
    "whitespace only": ("  \n\n", "the file is empty"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary data"),
    "not a mapping": ("- 1\n- 2\n", "expected a mapping"),
    "missing id": (mutated(lambda d: d["companies"][1].pop("id")), "missing field 'id'"),
    "duplicate ids": (
        mutated(lambda d: d["companies"].append(copy.deepcopy(d["companies"][0]))),
        "company id listed twice",
    ),
    "unknown field": (mutated(set_in(["companies", 1, "regoin"], "CN")), "unknown field 'regoin'"),
    "wrong type": (mutated(set_in([*ALLOC, "own_inference", "value"], "lots")), "valid number"),
    "shares do not sum": (
        mutated(set_in([*ALLOC, "own_inference", "value"], 0.9)),
        "allocation shares must sum to 1",
    ),
    "negative amount": (
        mutated(lambda d: snap(d, 1)["ai_capex"].update(value=-5)),
        "must not be negative",
    ),
    "unknown currency": (
        mutated(lambda d: snap(d, 1)["ai_capex"].update(currency="XYZ")),
        "unknown currency 'XYZ'",
    ),
    "lowercase currency": (
        mutated(lambda d: snap(d, 1)["ai_capex"].update(currency="usd")),
        "ai_capex.currency",
    ),
    "low above high": (
        mutated(lambda d: snap(d, 1)["ai_capex"].update(low=5e9, high=1e9, value=2e9)),
        "low (5000000000.0) is greater than high",
    ),
    "value outside range": (
        mutated(lambda d: snap(d, 1)["ai_capex"].update(low=2e9, high=3e9)),
        "is below low",
    ),
    "unknown source": (
        mutated(set_in([*ALLOC, "own_inference", "sources"], ["nowhere"])),
        "unknown source id 'nowhere'",
    ),
    "duplicate period": (
        mutated(lambda d: d["companies"][1]["snapshots"].append(copy.deepcopy(snap(d, 1)))),
        "period listed twice: 2025",
    ),
    "bad slug": (mutated(set_in(["companies", 1, "id"], "Bad Id")), "field id"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_file_is_refused_and_nothing_changes(tmp_path, capsys, isolated_db, case):
    text, expected = CASES[case]
    before = state(isolated_db)
    name = "bad.json" if case == "malformed json" else "bad.yaml"
    code, err = run_import(tmp_path, capsys, text, name)
    assert code == 2
    assert expected in err
    assert "Traceback" not in err
    assert "the database is unchanged" in err
    assert state(isolated_db) == before


def test_problem_names_line_company_period_and_field(tmp_path, capsys):
    text = mutated(set_in([*ALLOC, "own_inference", "value"], 0.9))
    code, err = run_import(tmp_path, capsys, text)
    lines = text.splitlines()
    company_line = next(i for i, ln in enumerate(lines, 1) if "id: fine" in ln)
    # the allocation mapping of the second company starts on the line after its key
    allocation = next(
        i for i, ln in enumerate(lines, 1) if i > company_line and ln.strip() == "allocation:"
    )
    assert code == 2
    assert f"bad.yaml:{allocation + 1} (id fine, period 2025, field allocation)" in err


def test_every_problem_is_reported_at_once(tmp_path, capsys):
    def two_problems(d: dict[str, Any]) -> None:
        d["companies"][0]["regoin"] = "x"
        snap(d, 1)["ai_capex"]["value"] = -1

    code, err = run_import(tmp_path, capsys, mutated(two_problems))
    assert code == 2
    assert "unknown field 'regoin'" in err and "must not be negative" in err


def test_missing_file(tmp_path, capsys):
    assert main(["import", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_one_bad_company_rejects_the_whole_file(tmp_path, capsys, isolated_db):
    def break_second(d: dict[str, Any]) -> None:
        d["companies"][0]["id"] = "brand_new"
        snap(d, 1)["allocation"]["own_inference"]["value"] = 0.9

    code, _ = run_import(tmp_path, capsys, mutated(break_second))
    assert code == 2
    assert "brand_new" not in Store.open(isolated_db).universe().companies


def test_good_file_imports(tmp_path, capsys):
    code, out = run_import(tmp_path, capsys, json.dumps(GOOD), "good.json")
    assert code == 0
    assert "Imported as revision 2: 7 records changed." in out
