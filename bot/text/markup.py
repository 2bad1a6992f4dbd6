"""Markup: HTML escaping, aligned terminal tables, and Telegram's message lengths.

Telegram HTML is cut into messages under a length limit without breaking its markup: messages
break at line boundaries; a tag left open at a break (a <pre> block spanning two
messages) is closed at the end of one message and reopened at the start of the next. Only a
single line longer than a whole message is cut inside, and then never inside a tag or entity.
Lengths are what Telegram limits: the text after entity parsing (tags dropped, entities
decoded), in UTF-16 code units.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence


def esc(text: object) -> str:
    """Text made safe for Telegram's HTML parse mode (outside attributes)."""
    return html.escape(str(text), quote=False)


def width(text: str) -> int:
    """Terminal columns a string takes: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """Columns padded to their widest cell; indices in `right` are right-aligned (numbers)."""
    cols = [list(col) for col in zip(headers, *rows, strict=True)]
    widths = [max(width(c) for c in col) for col in cols]

    def line(cells: Sequence[str]) -> str:
        padded = []
        for i, cell in enumerate(cells):
            pad = " " * (widths[i] - width(cell))
            padded.append(pad + cell if i in right else cell + pad)
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024

_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|[^<&]+|[<&]")
_TAG = re.compile(r"<(/?)([a-zA-Z][\w-]*)[^>]*>")


def visible(html_text: str) -> str:
    """The text a user sees: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", html_text))


def size(html_text: str) -> int:
    """Length as Telegram counts it: visible text in UTF-16 code units."""
    return len(visible(html_text).encode("utf-16-le")) // 2


def split(html: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """The HTML as a list of messages, each at most `limit` long and well-formed on its own."""
    chunks: list[str] = []
    current = ""
    stack: list[tuple[str, str]] = []  # open tags: (name, the opening tag as written)
    for piece in _pieces(html, limit):
        after = _apply(stack, piece)
        if current and size(current + piece + _closers(after)) > limit:
            chunks.append(current.rstrip("\n") + _closers(stack))
            current = _openers(stack)
        current += piece
        stack = after
    chunks.append(current + _closers(stack))
    return [c.strip("\n") for c in chunks if visible(c).strip()]


def truncate(html: str, limit: int = CAPTION_LIMIT) -> str:
    """The first `limit` units of the HTML, well-formed, with an ellipsis when cut."""
    parts = split(html, limit - 1)
    return parts[0] + ("…" if len(parts) > 1 else "") if parts else ""


def _pieces(html: str, limit: int) -> list[str]:
    """Lines (with their newline); a line too long for a message becomes its tokens, and a
    text run too long becomes slices, so every piece fits with room for tags around it."""
    budget = max(limit // 2, 1)
    pieces: list[str] = []
    for line in html.splitlines(keepends=True):
        if size(line) <= budget:
            pieces.append(line)
            continue
        for token in _TOKEN.findall(line):
            if token.startswith(("<", "&")) or size(token) <= budget:
                pieces.append(token)
            else:
                pieces += [token[i : i + budget // 2] for i in range(0, len(token), budget // 2)]
    return pieces


def _apply(stack: list[tuple[str, str]], piece: str) -> list[tuple[str, str]]:
    """The open-tag stack after the tags in `piece`."""
    out = list(stack)
    for match in _TAG.finditer(piece):
        closing, name = match.group(1), match.group(2).lower()
        if not closing:
            out.append((name, match.group(0)))
        elif out and out[-1][0] == name:
            out.pop()
    return out


def _openers(stack: list[tuple[str, str]]) -> str:
    return "".join(tag for _, tag in stack)


def _closers(stack: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))
