"""Company resolution: ids, zh/en names, aliases and tickers, forgiving of case, width and typos."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable

from tools.errors import UnknownCompany
from tools.models import CompanyInfo

_EXCHANGE_SUFFIX = re.compile(r"\.(hk|us|ss|sz|n|o)$")
_HK_TICKER = re.compile(r"(\d{1,5})\.HK", re.IGNORECASE)
# A query that is an HK code: 700, 0700, 00700, 0700.HK (normalise drops the dot).
_HK_QUERY = re.compile(r"0*(\d{1,5})(?:hk)?")
# In free text an HK code is written as quotes print it (0700, 1810, 00700, 0700.HK): a
# shorter bare number is more often a quantity ("700 GPUs"). Not a year, which names a
# period, and not an amount ("1810亿", "$9988").
_HK_MENTION = re.compile(
    r"(?<![a-z0-9_.$¥€£])(\d{4,5}|\d{1,5}\.hk)(?![a-z0-9_.%])"
    r"(?!\s*(?:[亿万千百元年%倍]|bn\b|billion|million))"
)
_YEAR = re.compile(r"(19|20)\d\d")
TYPO_CUTOFF = 0.82  # "xiaomy"/xiaomi scores 0.83; "apply"/apple 0.80 must not match


def normalise(text: str) -> str:
    """Fold width (ＸＩＡＯＭＩ, １８１０), case and spacing/punctuation away."""
    folded = unicodedata.normalize("NFKC", text).casefold().strip()
    return re.sub(r"[\s\-_'’·.,()（）]+", "", folded)


def _names(company: CompanyInfo) -> Iterable[str]:
    yield company.id
    yield company.name.zh
    yield company.name.en
    yield from company.aliases
    for ticker in company.tickers:
        if not _HK_TICKER.fullmatch(ticker):  # HK codes are matched by number (_hk_code)
            yield ticker
            yield _EXCHANGE_SUFFIX.sub("", ticker.casefold())


def _hk_code(text: str) -> int | None:
    """The number of an HK code, leading zeros ignored: 700, 0700, 00700.HK → 700."""
    match = _HK_QUERY.fullmatch(normalise(text))
    return int(match.group(1)) if match else None


class Resolver:
    """Looks companies up by any of their names. Build once per universe; lookups are dict hits."""

    def __init__(self, companies: Iterable[CompanyInfo]) -> None:
        self._index: dict[str, str] = {}
        self._hk_codes: dict[int, str] = {}
        # What free text may contain: the normalised keys, plus multi-word names as written
        # ("volcano engine"), which normalising squeezes together.
        self._mentions: dict[str, str] = {}
        for company in companies:
            for ticker in company.tickers:
                if match := _HK_TICKER.fullmatch(ticker):
                    self._hk_codes.setdefault(int(match.group(1)), company.id)
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
        code = _hk_code(key)
        if code in self._hk_codes:
            return self._hk_codes[code]
        if key in self._index:
            return self._index[key]
        if code is not None:  # part of a number is another number, never a name's prefix
            raise UnknownCompany(query, [])
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
        hits += self._hk_mentions(folded, taken)
        if typos:
            hits += self._typos(folded, taken)
        ordered = [cid for _, cid in sorted(hits)]
        return list(dict.fromkeys(ordered))

    def _hk_mentions(self, folded: str, taken: list[tuple[int, int]]) -> list[tuple[int, str]]:
        hits = []
        for match in _HK_MENTION.finditer(folded):
            start, end = match.span()
            if any(s < end and start < e for s, e in taken) or _YEAR.fullmatch(match.group()):
                continue
            code = _hk_code(match.group())
            if code in self._hk_codes:
                taken.append((start, end))
                hits.append((start, self._hk_codes[code]))
        return hits

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
