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


def test_a_live_request_never_waits_for_a_yielding_computation():
    """The warm-up's chart under way does not hold up a live request for the same chart: the
    live one draws it itself (issue 17: the first /rank after start waited for the warm-up)."""
    memo, started, release = Memo(), threading.Event(), threading.Event()

    def slow_warm_up() -> bytes:
        started.set()
        release.wait(10)
        return b"warm"

    with ThreadPoolExecutor(1) as pool:
        warm = pool.submit(lambda: memo.get(("chart",), slow_warm_up, yielding=True))
        started.wait(10)
        at = time.monotonic()
        assert memo.get(("chart",), lambda: b"live") == b"live"
        assert time.monotonic() - at < 1
        release.set()
        assert warm.result() == b"warm"
    assert memo.get(("chart",), lambda: b"again") in {b"live", b"warm"}
