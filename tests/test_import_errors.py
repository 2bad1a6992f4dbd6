"""`import` refuses bad files with a clear, placed message, exit code 2, and no change."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import BASE, company

from bot.cli.main import main
from tools.dataio import MAX_FILE_BYTES
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
    "yaml infinity": (
        mutated(set_in([*ALLOC, "own_inference", "value"], 0.123456)).replace("0.123456", ".inf"),
        "field allocation.own_inference.value): Input should be a finite number",
    ),
    "yaml nan": (
        mutated(lambda d: snap(d, 1)["ai_capex"].update(value=12345.5)).replace("12345.5", ".nan"),
        "(id fine, period 2025, field ai_capex.value): Input should be a finite number",
    ),
    "full-width period": (
        mutated(set_in(["companies", 1, "snapshots", 0, "period"], "２０２５")),
        "period '２０２５' is not a year in ASCII digits",
    ),
    "arabic-indic period": (
        mutated(set_in(["fx", 0, "period"], "٢٠٢٥")),
        "period '٢٠٢٥' is not a year in ASCII digits",
    ),
    "yaml nested too deeply": ("companies: " + "[" * 5000 + "]" * 5000, "nested too deeply"),
}

JSON_CASES = {
    "json NaN": (
        json.dumps(GOOD).replace('"value": 1000000000.0', '"value": NaN', 1),
        "(id good, period 2025, field ai_capex.value): Input should be a finite number",
    ),
    "json Infinity": (
        json.dumps(GOOD).replace('"usd_per_unit": 1.0', '"usd_per_unit": Infinity', 1),
        "(period 2024, field usd_per_unit): Input should be a finite number",
    ),
    "json overflow to infinity": (
        json.dumps(GOOD).replace('"value": 1000000000.0', '"value": 1e400', 1),
        "Input should be a finite number",
    ),
    "json duplicate key": (
        '{\n  "companies": [],\n  "companies": []\n}',
        "bad.json:3: key 'companies' given twice",
    ),
    "json lone surrogate": (
        json.dumps(GOOD).replace('"en": "Good"', '"en": "Go\\ud800od"', 1),
        "(id good, field name.en): text with an unpaired surrogate",
    ),
    "json huge integer": ('{"fx": 1' + "0" * 5000 + "}", "unreadable number"),
    "json nested too deeply": ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_file_is_refused_and_nothing_changes(tmp_path, capsys, isolated_db, case):
    text, expected = CASES[case]
    before = state(isolated_db)
    name = "bad.json" if case == "malformed json" else "bad.yaml"
    code, err = run_import(tmp_path, capsys, text, name)
    assert code == 2, err
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


@pytest.mark.parametrize("case", JSON_CASES)
def test_bad_json_is_refused_and_nothing_changes(tmp_path, capsys, isolated_db, case):
    text, expected = JSON_CASES[case]
    before = state(isolated_db)
    code, err = run_import(tmp_path, capsys, text, "bad.json")
    assert code == 2, err
    assert expected in err
    assert "Traceback" not in err and "the database is unchanged" in err
    assert state(isolated_db) == before


def test_paired_surrogate_escapes_are_text(tmp_path, capsys, isolated_db):
    """An emoji written as a JSON escape pair is a character, not an error."""
    text = json.dumps(GOOD).replace('"en": "Good"', '"en": "Good \\ud83d\\ude00"', 1)
    code, out = run_import(tmp_path, capsys, text, "good.json")
    assert code == 0, out
    assert Store.open(isolated_db).universe().companies["good"].name.en == "Good \U0001f600"


def test_endless_file_is_refused_after_the_limit(capsys, isolated_db):
    """`import /dev/zero` reads MAX_FILE_BYTES + 1 bytes, then stops."""
    before = state(isolated_db)
    assert main(["import", "/dev/zero"]) == 2
    err = capsys.readouterr().err
    assert f"larger than {MAX_FILE_BYTES // 2**20} MB" in err
    assert state(isolated_db) == before


def test_file_over_the_limit_is_refused(tmp_path, capsys, isolated_db):
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:
        f.write(b"# padding\n")
        f.truncate(MAX_FILE_BYTES + 1)
    assert main(["import", str(big)]) == 2
    assert "larger than" in capsys.readouterr().err


def test_revision_hashes_the_bytes_it_imported(tmp_path, capsys):
    """The file is read once: a file that changes between reads (here a pipe that yields
    two different texts) is hashed and parsed from the same bytes."""
    fifo = tmp_path / "data.json"
    os.mkfifo(fifo)
    first = json.dumps(GOOD).encode()
    second = json.dumps({**GOOD, "companies": [company("other", 0.1)]}).encode()

    def feed() -> None:
        for content in (first, second):
            with fifo.open("wb") as f:
                f.write(content)
            time.sleep(0.5)  # let the reader see the end of the first text before the next

    writer = threading.Thread(target=feed)
    writer.start()
    code = main(["import", str(fifo)])
    # A second reader for the second text, if the import did not take it (never blocks).
    release = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    writer.join(timeout=10)
    os.close(release)
    assert code == 0, capsys.readouterr().err
    latest = Store.open(os.environ["INFERENCE_LENS_DB"]).revisions()[-1]
    assert latest.source_hash == hashlib.sha256(first).hexdigest()
