"""Whether an LLM's text is shaped like an answer at all, before the grounding gate reads it.

The gate refuses unsupported figures; an answer with none passes it whatever it says. Small
models write such answers: a tool call as text (the server did not parse it), HTML entities,
Markdown (a chat shows it raw), or prose about something else. Those are replaced by the
offline answer. The rules, in order:
- tool-call syntax is never an answer, figures or not;
- an answer with no figure must not be markup (entities, headings, bold, tables);
- an answer with no figure must be about the question: name one of its companies (or any
  company, when it names none), or share a word with it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

TOOL_SYNTAX = re.compile(
    r"</?tool_call>|<\|im_(?:start|end)\|>|\{\s*\"(?:name|function|tool_calls?)\"\s*:"
    r"|\bfunctions\.\w+\s*\(|\b(?:functions|tools)\.\w+\s*:|\[TOOL_CALLS\]",
    re.IGNORECASE,
)
ENTITY = re.compile(r"&(?:#[0-9]+|#x[0-9a-f]+|[a-z]{2,8});", re.IGNORECASE)  # &amp; &#39;
MARKUP = re.compile(
    rf"{ENTITY.pattern}"
    r"|^\s{0,3}#{1,6}\s"  # a Markdown heading
    r"|\*\*[^*\n]+\*\*|__[^_\n]+__"  # bold
    r"|^\s*\|.*\|\s*$",  # a table row
    re.IGNORECASE | re.MULTILINE,
)
# Chinese numerals count with a measure only: 一个 ("a", "one") is in most sentences.
FIGURE = re.compile(
    r"[0-9０-９]|[一二三四五六七八九十两][成倍名位亿万]|第[一二三四五六七八九十]|百分之|一半"
    r"|\b(?:half|third|quarter|twice|double)\b"
)
_WORD = re.compile(r"[a-z]{4,}")
_HAN = re.compile(r"[\u4e00-\u9fff]+")
# Question words that say nothing about its subject.
# fmt: off
_FILLER = frozenset((
    "what", "which", "where", "when", "does", "have", "about", "their", "there", "would",
    "could", "should", "much", "many", "more", "most", "than", "then", "they", "them", "your",
    "into", "with", "from", "that", "this", "tell", "show", "give", "please",
    "什么", "多少", "哪个", "哪些", "怎么", "怎样", "为什", "请问", "是不", "不是", "一下", "告诉",
))
# fmt: on


def unusable(text: str, question: str, asked: Iterable[str], known: Iterable[str]) -> str | None:
    """Why `text` is not an answer to `question` ("tool_syntax", "markup", "off_topic"), or
    None. `asked` are the names of the companies the question is about, `known` all names."""
    if TOOL_SYNTAX.search(text):
        return "tool_syntax"
    if FIGURE.search(ENTITY.sub("", text)):  # &#39; is no figure
        return None  # figures are the grounding gate's to judge
    if MARKUP.search(text):
        return "markup"
    return None if _about(text, question, list(asked), known) else "off_topic"


def _about(text: str, question: str, asked: list[str], known: Iterable[str]) -> bool:
    folded = text.casefold()
    names = asked or known
    if any(name.casefold() in folded for name in names if name):
        return True
    return bool(_words(question) & _words(text))


def _words(text: str) -> set[str]:
    """Its content words: Latin words of 4+ letters, and Chinese character pairs."""
    folded = text.casefold()
    latin = {w.rstrip("s") for w in _WORD.findall(folded) if w not in _FILLER}
    han = {run[i : i + 2] for run in _HAN.findall(folded) for i in range(len(run) - 1)}
    return latin | (han - _FILLER)
