"""Company resolution: ids, zh/en names, aliases and tickers, forgiving of case, width and typos."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

from tools.errors import UnknownCompany
from tools.models import Company

_EXCHANGE_SUFFIX = re.compile(r"\.(hk|us|ss|sz|n|o)$")
TYPO_CUTOFF = 0.82  # "xiaomy"/xiaomi scores 0.83; "apply"/apple 0.80 must not match


def normalise(text: str) -> str:
    """Fold width (ＸＩＡＯＭＩ, １８１０), case and spacing/punctuation away."""
    folded = unicodedata.normalize("NFKC", text).casefold().strip()
    return re.sub(r"[\s\-_'’·.,()（）]+", "", folded)


def _names(company: Company) -> Iterable[str]:
    yield company.id
    yield company.name.zh
    yield company.name.en
    yield from company.aliases
    for ticker in company.tickers:
        yield ticker
        yield _EXCHANGE_SUFFIX.sub("", ticker.casefold())  # 1810.HK is also asked as 1810


class Resolver:
    """Looks companies up by any of their names. Build once per universe; lookups are dict hits."""

    def __init__(self, companies: Iterable[Company]) -> None:
        self._index: dict[str, str] = {}
        # What free text may contain: the normalised keys, plus multi-word names as written
        # ("volcano engine"), which normalising squeezes together.
        self._mentions: dict[str, str] = {}
        for company in companies:
            for name in _names(company):
                key = normalise(name)
                if key:
                    self._index.setdefault(key, company.id)
                    self._mentions.setdefault(key, company.id)
                    self._mentions.setdefault(
                        unicodedata.normalize("NFKC", name).casefold(), company.id
                    )
        # Longest first, so a question naming 阿里巴巴 finds it before the shorter 阿里.
        self._by_length = sorted(self._mentions, key=len, reverse=True)

    def resolve(self, query: str) -> str:
        """The id of the company a name means, or UnknownCompany with suggestions."""
        key = normalise(query)
        if key in self._index:
            return self._index[key]
        prefixed = {
            cid for name, cid in self._index.items() if len(key) >= 2 and name.startswith(key)
        }
        if len(prefixed) == 1:
            return prefixed.pop()
        raise UnknownCompany(query, self.suggest(query))

    def suggest(self, query: str, n: int = 3) -> list[str]:
        """Closest company ids by spelling ("did you mean")."""
        close = difflib.get_close_matches(normalise(query), self._index, n=n * 3, cutoff=0.6)
        return list(dict.fromkeys(self._index[name] for name in close))[:n]

    def find_in(self, text: str, *, typos: bool = False) -> list[str]:
        """Every company named anywhere in free text, in order of first mention.

        Latin names must stand as whole words (so "meta" does not match "metadata");
        CJK names match inside a sentence, where there are no spaces. With `typos`, a
        Latin word of 5+ letters that names nothing also matches a one-word name it is
        very close to ("xiaomy" → xiaomi); the high cutoff keeps "apply" from meaning Apple.
        """
        folded = unicodedata.normalize("NFKC", text).casefold()
        hits: list[tuple[int, str]] = []
        taken: list[tuple[int, int]] = []
        for name in self._by_length:
            pattern = (
                re.escape(name) if _is_cjk(name) else rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])"
            )
            for match in re.finditer(pattern, folded):
                span = match.span()
                if not any(s < span[1] and span[0] < e for s, e in taken):
                    taken.append(span)
                    hits.append((span[0], self._mentions[name]))
        if typos:
            hits += self._typos(folded, taken)
        ordered = [cid for _, cid in sorted(hits)]
        return list(dict.fromkeys(ordered))

    def _typos(self, folded: str, taken: list[tuple[int, int]]) -> list[tuple[int, str]]:
        words = [name for name in self._index if name.isascii() and name.isalpha()]
        hits = []
        for match in re.finditer(r"(?<![a-z0-9])[a-z]{5,}(?![a-z0-9])", folded):
            start, end = match.span()
            if any(s < end and start < e for s, e in taken):
                continue
            close = difflib.get_close_matches(match.group(), words, n=1, cutoff=TYPO_CUTOFF)
            if close:
                hits.append((start, self._index[close[0]]))
        return hits


def _is_cjk(text: str) -> bool:
    return any(unicodedata.east_asian_width(ch) in "WF" for ch in text)
