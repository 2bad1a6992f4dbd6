"""A tool result cut to its size in the prompt: list tails dropped, longest list first."""

from __future__ import annotations

import json
from typing import Any

# One tool result in the prompt; bigger results lose list tails. A full ranking costs ~330
# characters a company, and the LLM and the grounding gate must see every row the renderer
# writes, so this leaves room for ~35 companies (the shipped set has 28).
MAX_RESULT_CHARS = 12000


def capped(data: dict[str, Any], limit: int = MAX_RESULT_CHARS) -> dict[str, Any]:
    """Drop list tails (longest list first) until the JSON fits, marking it truncated.

    Linear in the result's size: each item is measured once and the total kept up to date
    (re-serialising after every removal took 66 s for 2,000 rows). Only outermost lists are
    candidates: a list inside another is always the shorter of the two.
    """
    out = json.loads(json.dumps(data))
    total = _size(out)
    if total <= limit:
        return out
    # Per outermost list: its items, their sizes and its own size (kept up to date).
    lists = [_Tail(items, [_size(x) for x in items]) for items in _outer_lists(out) if items]
    out["truncated"] = True
    total = _size(out)
    while total > limit:
        if not lists:
            return {"error": "result too large", "truncated": True}
        longest = max(lists, key=lambda tail: tail.size)
        total -= longest.pop()
        lists = [tail for tail in lists if tail.items]
    return out


class _Tail:
    """A list `capped` shortens from its end, with the JSON size of each item."""

    def __init__(self, items: list[Any], sizes: list[int]) -> None:
        self.items, self.sizes = items, sizes
        self.size = sum(sizes) + 2 * (len(sizes) - 1) + 2  # items, ", " between, brackets

    def pop(self) -> int:
        """Drop the last item; returns how many characters that saves."""
        self.items.pop()
        saved = self.sizes.pop() + (2 if self.sizes else 0)
        self.size -= saved
        return saved


def _size(node: Any) -> int:
    """Characters of `node` in the JSON the LLM's budget is counted in."""
    return len(json.dumps(node, ensure_ascii=False))


def _outer_lists(node: Any) -> list[list[Any]]:
    if isinstance(node, dict):
        return [x for value in node.values() for x in _outer_lists(value)]
    return [node] if isinstance(node, list) else []
