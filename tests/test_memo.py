"""The bot's memo computes an entry once even when requests race (issue 13/14: a crowd's first
/rank drew the same chart on up to six threads at once)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.telegram.memo import Memo


def test_racing_requests_compute_an_entry_once():
    memo, calls = Memo(), []

    def draw() -> bytes:
        calls.append(threading.get_ident())
        time.sleep(0.2)  # a slow chart
        return b"png"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: memo.get(("chart",), draw), range(8)))
    assert results == [b"png"] * 8 and len(calls) == 1


def test_a_failed_computation_is_not_stored_and_is_tried_again():
    memo = Memo()

    def fail() -> int:
        raise RuntimeError("no font")

    with pytest.raises(RuntimeError):
        memo.get(("k",), fail)
    assert memo.get(("k",), lambda: 7) == 7


def test_the_least_recently_used_entry_goes_first():
    memo = Memo(size=2)
    memo.get(("a",), lambda: 1)
    memo.get(("b",), lambda: 2)
    memo.get(("a",), lambda: 0)  # a hit keeps "a"
    memo.get(("c",), lambda: 3)  # evicts "b"
    assert memo.get(("a",), lambda: -1) == 1 and memo.get(("b",), lambda: -2) == -2
