"""The conversation as every OpenAI-compatible server accepts it, and its replies read as
every one of them writes them.

Sent: an assistant message always has string content ("" beside tool calls: llama.cpp's
server refuses null with HTTP 500 and some chat templates fail without the key). Without
tool support the tool results go into the user's message as text, so the roles still
alternate user/assistant as strict templates (Gemma's) require.
Read: tool calls without ids or types, the deprecated `function_call`, and a reply cut at
max_tokens (finish_reason "length"), which keeps its whole sentences only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from bot.agent.registry import Outcome
from bot.text.i18n import Lang, t

# (id, name, arguments) of one tool call
Call = tuple[str, str, Any]

_SENTENCE_END = re.compile(r"[.!?。！？](?=\s|$)|[。！？]")


def assistant_calls(calls: Sequence[Call], content: str | None = None) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": content or "",
        "tool_calls": [
            {"id": cid, "type": "function", "function": {"name": name, "arguments": _json(args)}}
            for cid, name, args in calls
        ],
    }


def _json(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)


def tool_results(outcomes: Sequence[Outcome], limit: int) -> list[dict[str, Any]]:
    return [
        {"role": "tool", "tool_call_id": o.call_id, "content": o.content(limit)} for o in outcomes
    ]


def with_results(question: str, outcomes: Sequence[Outcome], limit: int, lang: Lang) -> str:
    """The user's message for a server without tools: the question, then the results."""
    if not outcomes:
        return question
    results = "\n".join(f"{o.name}: {o.content(limit)}" for o in outcomes)
    return f"{question}\n\n{t('llm_tool_results', lang, results=results)}"


def requested(message: Any, round_no: int) -> list[Call]:
    """The tool calls of a reply, whatever a lax server left out (ids are made up), or its
    deprecated single `function_call`."""
    calls = list(getattr(message, "tool_calls", None) or [])
    legacy = getattr(message, "function_call", None)
    if not calls and legacy is not None:
        calls = [legacy]
    return [_call(c, f"call_{round_no}_{i}") for i, c in enumerate(calls)]


def _call(call: Any, fallback_id: str) -> Call:
    function = getattr(call, "function", call)  # a function_call is the function itself
    name = getattr(function, "name", None) or ""
    return getattr(call, "id", None) or fallback_id, name, getattr(function, "arguments", None)


def text_of(message: Any, finish_reason: str | None) -> str:
    """The reply's text; cut at max_tokens, only its whole sentences (maybe none)."""
    text = (getattr(message, "content", None) or "").strip()
    if finish_reason != "length":
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return text[: ends[-1]].strip() if ends else ""
