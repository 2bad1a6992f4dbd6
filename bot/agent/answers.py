"""What an answer is, as `ask --json`, the chat, Telegram and `eval` read it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.agent import grounding
from bot.agent.planner import Plan
from tools.taxonomy import DEFAULT_METRIC


class ToolCallRecord(BaseModel):
    name: str
    arguments: dict[str, Any] | str
    result: dict[str, Any]
    # The LLM asked for it (not prefetched, not the offline planner's): what `eval` judges.
    # Left out of dumps, so the `ask --json` contract is unchanged.
    by_llm: bool = Field(False, exclude=True)


# Why an answer is offline: no LLM configured, the user's daily LLM questions spent, the LLM
# failed or refused (quota), the prompt did not fit its context even shortened, the time
# budget ran out, it gave no text, its text was no answer (answer_shape), or the grounding
# gate replaced its text with the rendered results.
Fallback = Literal[
    "no_llm",
    "daily_limit",
    "llm_error",
    "llm_quota",
    "llm_context",
    "time_budget",
    "empty",
    "unusable",
    "grounding",
]


class Action(BaseModel):
    """A subscription asked for in words; Telegram offers it as a confirm button that
    subscribes the requesting chat (the callback data of commands.py: "sub:<company>:<metric>")."""

    kind: Literal["subscribe", "unsubscribe"]
    company: str | None = None
    metric: str = DEFAULT_METRIC


class Answer(BaseModel):
    text: str  # plain text, no HTML
    mode: Literal["llm", "offline"]
    tool_calls: list[ToolCallRecord]
    ungrounded: list[grounding.Rejected]  # the claims the gate refused, with their subject
    llm_requests: int
    llm_seconds: float = 0.0  # spent waiting on the LLM (the benchmark's split)
    llm_prompt_tokens: int = 0  # as the server reported them (`inference-lens eval`)
    llm_completion_tokens: int = 0
    fallback: Fallback | None = None
    note: str | None  # shown under the text: why the answer is offline or rendered
    plan: Plan | None = None  # what the planner read in the question
    action: Action | None = None  # what the chat may confirm with a button
