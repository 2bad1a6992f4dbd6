"""Costs that must grow with the work, not faster (issue 17): at thousands of companies."""

from __future__ import annotations

import json
import time

from bot.agent.registry import MAX_RESULT_CHARS, capped


def test_capping_a_big_result_is_linear():
    # re-serialising the whole result after each dropped row took 66 s for 2,000 rows
    rows = [{"name": "x" * 300, "n": i} for i in range(5_000)]
    start = time.process_time()
    out = capped({"rows": rows, "unit": "share"})
    assert time.process_time() - start < 3
    assert len(json.dumps(out, ensure_ascii=False)) <= MAX_RESULT_CHARS
    assert out["truncated"] is True and out["rows"][0] == rows[0] and out["unit"] == "share"


def test_capping_drops_from_the_longest_list_first():
    data = {"a": list(range(100)), "b": {"c": [[1, 2, 3]] * 40}, "s": "x" * 50}
    out = capped(data, limit=300)
    assert len(json.dumps(out, ensure_ascii=False)) <= 300
    # both lists were shortened from their ends, whichever was longer at each step
    assert out["a"] == list(range(len(out["a"]))) and out["b"]["c"] == [[1, 2, 3]] * len(
        out["b"]["c"]
    )
    assert abs(len(json.dumps(out["a"])) - len(json.dumps(out["b"]["c"]))) < 20
