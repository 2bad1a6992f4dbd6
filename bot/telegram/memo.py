"""A small thread-safe LRU map for what the bot computes again and again (rankings, charts),
and a tally of what users ask for most."""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
Key = tuple[object, ...]
MEMO_SIZE = 512


class Memo:
    """Computes each entry once: when many requests for the same new chart race (a crowd's
    first /rank), one thread draws it and the others wait for it instead of drawing it too.
    A `yielding` computation (the warm-up's) makes nobody wait: a live request that finds
    one under way computes the entry itself. Computations never ask the memo for another
    entry, so the per-key locks cannot deadlock."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self._items: OrderedDict[Key, object] = OrderedDict()
        self._pending: dict[Key, tuple[threading.Lock, bool]] = {}  # key → (turn, yielding)
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Key, compute: Callable[[], T], *, yielding: bool = False) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[return-value]
            pending = self._pending.get(key)
            if pending is None or (pending[1] and not yielding):
                pending = (threading.Lock(), yielding)
                self._pending[key] = pending
        with pending[0]:  # the first caller computes; the others wait here, then find it stored
            with self._lock:
                if key in self._items:
                    return self._items[key]  # type: ignore[return-value]
            try:
                value = compute()
            except BaseException:
                with self._lock:
                    self._done(key, pending)
                raise
            with self._lock:
                self._items[key] = value
                self._items.move_to_end(key)
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
                self._done(key, pending)
        return value

    def _done(self, key: Key, pending: tuple[threading.Lock, bool]) -> None:
        if self._pending.get(key) is pending:  # not a live computation that took over
            del self._pending[key]


class Asked:
    """How often each view is asked for (a thread-safe tally of hashable specs), so the
    warm-up can draw the most asked again after an import. Bounded: past `size` specs the
    least asked half is forgotten."""

    def __init__(self, size: int = 2_000) -> None:
        self._counts: Counter[Key] = Counter()
        self.size = size
        self._lock = threading.Lock()

    def add(self, spec: Key) -> None:
        with self._lock:
            self._counts[spec] += 1
            if len(self._counts) > self.size:
                self._counts = Counter(dict(self._counts.most_common(self.size // 2)))

    def most(self, n: int) -> list[Key]:
        with self._lock:
            return [spec for spec, _ in self._counts.most_common(n)]
