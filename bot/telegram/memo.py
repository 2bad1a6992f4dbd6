"""A small thread-safe LRU map for what the bot computes again and again (rankings, charts)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
Key = tuple[object, ...]
MEMO_SIZE = 512


class Memo:
    """Computes each entry once: when many requests for the same new chart race (a crowd's
    first /rank), one thread draws it and the others wait for it instead of drawing it too.
    Computations never ask the memo for another entry, so the per-key locks cannot deadlock."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self._items: OrderedDict[Key, object] = OrderedDict()
        self._pending: dict[Key, threading.Lock] = {}
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: Key, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[return-value]
            turn = self._pending.setdefault(key, threading.Lock())
        with turn:  # the first caller computes; the others wait here, then find it stored
            with self._lock:
                if key in self._items:
                    return self._items[key]  # type: ignore[return-value]
            try:
                value = compute()
            except BaseException:
                with self._lock:
                    self._pending.pop(key, None)
                raise
            with self._lock:
                self._items[key] = value
                self._pending.pop(key, None)
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        return value
