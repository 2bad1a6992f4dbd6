"""What a result says, as a small document, and the three ways it is drawn.

A renderer (bot.text.ranking, .company, .changes, .whatif) decides the content once: which
figures, in which order, with which words and units. The surfaces differ only in markup:
- `plain`: the terminal, tables aligned in columns (CJK characters count two);
- `html`: Telegram HTML, lists instead of tables (phones are narrow, and monospace alignment
  of Chinese differs between clients), every string escaped;
- `chat`: the same lists without markup, for answers in a conversation (the agent's text is
  escaped by whoever sends it).
"""

from __future__ import annotations

import html as _html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.text.markup import esc, table

Role = Literal["rank", "name", "value", "plain", "detail"]


@dataclass(frozen=True)
class Col:
    """A table column: its header, and how a list item shows the cell.

    rank: the item's number; name and value: bold; plain: after the name; detail: a second,
    italic line ("header value" when `labelled`)."""

    header: str
    role: Role = "plain"
    right: bool = False
    labelled: bool = False


@dataclass(frozen=True)
class Table:
    cols: Sequence[Col]
    rows: Sequence[Sequence[str]]


@dataclass(frozen=True)
class Line:
    """A line of text; `note` lines are secondary (italic), `code` ones verbatim."""

    text: str
    style: Literal["", "strong", "note", "code"] = ""
    indent: int = 0


@dataclass(frozen=True)
class Item:
    """A labelled value in a list ('own inference: 72% (55–80%)'), with an optional note."""

    label: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class Section:
    title: str
    items: Sequence[Item | Line]


@dataclass(frozen=True)
class Link:
    """A source: its words, and its address when it has one."""

    text: str
    url: str | None = None


@dataclass(frozen=True)
class Links:
    title: str
    links: Sequence[Link]


Block = Line | Table | Section | Links


@dataclass
class Doc:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> Doc:
        self.blocks += blocks
        return self


# --- the terminal ---


def _stacked(doc: Doc, draw: Callable[[Block], str], title: str) -> str:
    """Blocks apart by a blank line; a run of lines stays together, and a note right after
    the title stays with it."""
    out = title
    previous: Block | None = None
    for block in doc.blocks:
        text = draw(block)
        if not text:
            continue
        together = isinstance(block, Line) and (
            isinstance(previous, Line) or (previous is None and block.style == "note")
        )
        out = f"{out}{chr(10) if together else chr(10) * 2}{text}" if out else text
        previous = block
    return out.rstrip()


def plain(doc: Doc) -> str:
    return _stacked(doc, _plain, doc.title)


def _plain(block: Block) -> str:
    match block:
        case Line():
            return "  " * block.indent + block.text
        case Table():
            right = [i for i, c in enumerate(block.cols) if c.right]
            return table([c.header for c in block.cols], block.rows, right=right)
        case Section():
            lines = [block.title + ":"] if block.title else []
            for item in block.items:
                lines += _plain_item(item)
            return "\n".join(lines)
        case Links():
            lines = [block.title + ":"]
            lines += [f"  {x.text}" + (f" <{x.url}>" if x.url else "") for x in block.links]
            return "\n".join(lines)


def _plain_item(item: Item | Line) -> list[str]:
    if isinstance(item, Line):
        return ["  " * (item.indent + 1) + item.text]
    lines = [f"  {item.label}: {item.value}" if item.label else f"  {item.value}"]
    return lines + ([f"    {item.note}"] if item.note else [])


# --- Telegram HTML and chat text: the same lists, with or without markup ---


@dataclass(frozen=True)
class _Marks:
    bold: str
    unbold: str
    italic: str
    unitalic: str
    code: str
    uncode: str
    escape: bool


HTML = _Marks("<b>", "</b>", "<i>", "</i>", "<code>", "</code>", True)
CHAT = _Marks("", "", "", "", "", "", False)


def html(doc: Doc) -> str:
    return _listed(doc, HTML)


def chat(doc: Doc) -> str:
    return _listed(doc, CHAT)


def _listed(doc: Doc, m: _Marks) -> str:
    e = esc if m.escape else str
    title = f"{m.bold}{e(doc.title)}{m.unbold}" if doc.title else ""
    return _stacked(doc, lambda block: _list_block(block, m), title)


def _list_block(block: Block, m: _Marks) -> str:
    e = esc if m.escape else str
    match block:
        case Line():
            styled = {"strong": (m.bold, m.unbold), "note": (m.italic, m.unitalic)}
            styled["code"] = (m.code, m.uncode)
            start, end = styled.get(block.style, ("", ""))
            return "    " * block.indent + f"{start}{e(block.text)}{end}"
        case Table():
            return "\n".join(_list_row(block.cols, row, m) for row in block.rows)
        case Section():
            lines = [f"{m.bold}{e(block.title)}{m.unbold}"] if block.title else []
            for item in block.items:
                if isinstance(item, Line):
                    lines.append(_list_block(item, m))
                    continue
                label = f"{e(item.label)}: " if item.label else ""
                lines.append(f"• {label}{e(item.value)}")
                if item.note:
                    lines.append(f"    {m.italic}{e(item.note)}{m.unitalic}")
            return "\n".join(lines)
        case Links():
            links = "\n".join(f"• {_link(x, m)}" for x in block.links)
            if m.escape:  # Telegram folds the list: one tap opens it, the answer stays short
                links = f"<blockquote expandable>{links}</blockquote>"
            return f"{m.bold}{e(block.title)}{m.unbold}\n{links}"


def _link(x: Link, m: _Marks) -> str:
    if not m.escape:
        return x.text
    if x.url and x.url.startswith(("https://", "http://")):
        return f'<a href="{_html.escape(x.url, quote=True)}">{esc(x.text)}</a>'
    return esc(x.text)


def _list_row(cols: Sequence[Col], row: Sequence[str], m: _Marks) -> str:
    """'1. <b>Xiaomi</b> · 2026: <b>72%*</b> (p10–p90 62–77%)' and an italic detail line."""
    e = esc if m.escape else str
    head, tail, details = "", [], []
    for col, cell in zip(cols, row, strict=True):
        if not cell:
            continue
        if col.role == "rank":
            head = f"{e(cell)}. "
        elif col.role == "name":
            tail.append(f"{m.bold}{e(cell)}{m.unbold}")
        elif col.role == "value":
            tail.append(f": {m.bold}{e(cell)}{m.unbold}")
        elif col.role == "detail":
            details.append(f"{col.header} {cell}" if col.labelled else cell)
        else:
            tail.append(f"({e(col.header)} {e(cell)})" if col.labelled else e(cell))
    first = (head or "• ") + " · ".join(_joined(tail))
    if not details:
        return first
    return f"{first}\n    {m.italic}{e(' · '.join(details))}{m.unitalic}"


def _joined(parts: list[str]) -> list[str]:
    """Cells joined by ' · ', except that a value and its range follow with a space."""
    out: list[str] = []
    for part in parts:
        if out and part.startswith(": "):
            out[-1] += part
        elif out and part.startswith("("):
            out[-1] += " " + part
        else:
            out.append(part)
    return out
