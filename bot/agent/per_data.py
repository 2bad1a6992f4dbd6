"""What every turn over the same data would compute again: the name resolver and rankings.

Kept beside the Universe they were computed from (the store keeps one Universe per latest
revision), so a new revision starts afresh and an old one's entries go with it. At 5,000
companies a resolver costs ~0.3 s and a ranking 1.5-2 s; a bot asked "where does Xiaomi
rank?" all day computed both for every question.
"""

from __future__ import annotations

import threading
import weakref

from tools import ranking
from tools.resolve import Resolver
from tools.universe import Universe

# per data revision: the few metrics and periods asked for in words (a ranking of 5,000
# companies holds megabytes; the Telegram commands keep their own)
RANKINGS_KEPT = 8

_lock = threading.Lock()
_resolvers: weakref.WeakKeyDictionary[Universe, Resolver] = weakref.WeakKeyDictionary()
_rankings: weakref.WeakKeyDictionary[Universe, dict[tuple[object, ...], ranking.Ranking]] = (
    weakref.WeakKeyDictionary()
)


def resolver(universe: Universe) -> Resolver:
    """The resolver of the universe's names (built once; two racing turns may both build it)."""
    with _lock:
        found = _resolvers.get(universe)
    if found is None:
        found = Resolver(universe.info.values())
        with _lock:
            _resolvers[universe] = found
    return found


def rank(
    universe: Universe, metric: str, period: str | None, region: str | None, top: int | None
) -> ranking.Ranking:
    """tools.ranking.rank, computed once per universe and arguments. Rankings are not
    changed by their readers (views and prose copy what they shorten)."""
    key = (metric, period, region, top)
    with _lock:
        found = _rankings.get(universe, {}).get(key)
    if found is None:
        found = ranking.rank(universe, metric, period, region, top)
        with _lock:
            kept = _rankings.setdefault(universe, {})
            if len(kept) >= RANKINGS_KEPT:
                kept.pop(next(iter(kept)))
            kept[key] = found
    return found
