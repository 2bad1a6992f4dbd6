"""The analyst agent: `answer()` turns a question into a grounded answer.

With an LLM: the planner's results are prefetched when it is confident (so one request
usually suffices), the LLM may call tools for up to 4 rounds, and the grounding gate checks
every number before the answer leaves. Without one, or when it fails or runs out of time,
the offline planner answers from the same tools.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from bot.agent import grounding, memory, planner, prose, registry
from bot.agent.memory import Turn
from bot.agent.planner import Plan
from bot.agent.registry import Outcome, ToolContext
from bot.settings import LLMSettings
from bot.text.i18n import Lang, t
from tools.store import Store
from tools.taxonomy import DEFAULT_METRIC

if TYPE_CHECKING:  # the client (and openai) loads only when an LLM is configured: cold start
    from bot.agent.client import ChatCompletionMessage, Counter

log = logging.getLogger(__name__)

HISTORY_TURNS = 3  # earlier turns sent to the LLM; more cost tokens and rarely help
HISTORY_CHARS = 600


# Why the LLM was unavailable (client.LLMUnavailable.kind) → the fallback it makes.
FALLBACKS: dict[str, Fallback] = {"quota": "llm_quota", "timeout": "time_budget"}
NOTES: dict[str, str] = {  # the note under an answer that the LLM did not write
    "llm_error": "note_llm_error",
    "llm_quota": "note_llm_quota",
    "time_budget": "note_llm_timeout",
    "empty": "note_llm_empty",
    "grounding": "note_ungrounded",
}


class ToolCallRecord(BaseModel):
    name: str
    arguments: dict[str, Any] | str
    result: dict[str, Any]
    # The LLM asked for it (not prefetched, not the offline planner's): what `eval` judges.
    # Left out of dumps, so the `ask --json` contract is unchanged.
    by_llm: bool = Field(False, exclude=True)


# Why an answer is offline: no LLM configured, the user's daily LLM questions spent, the LLM
# failed or refused (quota), the time budget ran out, it gave no text, or the grounding gate
# replaced its text with the rendered results.
Fallback = Literal[
    "no_llm", "daily_limit", "llm_error", "llm_quota", "time_budget", "empty", "grounding"
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


@dataclass
class TurnState:
    """One answer in the making: the conversation so far and every tool result in it."""

    question: str
    plan: Plan
    ctx: ToolContext
    settings: LLMSettings
    deadline: float
    counter: Counter
    messages: list[dict[str, Any]] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)


async def answer(
    question: str,
    *,
    store: Store,
    settings: LLMSettings,
    lang: Lang | None = None,
    chat_id: str = "cli",
    user_id: str | None = None,
    allow_llm: bool = True,
) -> Answer:
    """Answer a question about the data, in `lang` (detected from the question when None).

    `allow_llm=False` forces the offline planner (e.g. a user's daily LLM quota is spent).
    """
    lang = lang or planner.question_lang(question)
    history = await memory.recent(store, chat_id)
    ctx = await asyncio.to_thread(_context, store, lang, chat_id, user_id)
    previous = next((turn.plan for turn in reversed(history) if turn.plan), None)
    plan = planner.plan(question, ctx.resolver, previous, planner.periods_of(ctx.universe))
    if plan.intent in planner.ANSWERED_IN_WORDS:
        result = await offline(plan, ctx, fallback=None)
    elif allow_llm and settings.enabled:
        from bot.agent import client  # openai costs ~1 s to import; offline answers skip it

        deadline = time.monotonic() + settings.budget_seconds
        state = TurnState(question, plan, ctx, settings, deadline, client.Counter())
        result = await _with_llm(state, history)
        result = result.model_copy(update=_usage(state.counter))
    else:
        result = await offline(plan, ctx, fallback="daily_limit" if settings.enabled else "no_llm")
    result = result.model_copy(update={"plan": plan, "action": _action(plan)})
    remembered = plan if plan.intent != "help" else None
    await memory.remember(
        store, chat_id, Turn(question=question, lang=lang, plan=remembered, answer=result.text)
    )
    return result


def _usage(counter: Counter) -> dict[str, Any]:
    return {
        "llm_seconds": counter.seconds,
        "llm_prompt_tokens": counter.prompt_tokens,
        "llm_completion_tokens": counter.completion_tokens,
    }


def _action(plan: Plan) -> Action | None:
    if plan.intent not in ("subscribe", "unsubscribe"):
        return None
    company = plan.companies[0] if plan.companies else None
    return Action(kind=plan.intent, company=company, metric=plan.metric or DEFAULT_METRIC)


def _context(store: Store, lang: Lang, chat_id: str, user_id: str | None) -> ToolContext:
    return ToolContext(store, store.universe(), lang, chat_id, user_id)


# --- offline ---


async def offline(
    plan: Plan,
    ctx: ToolContext,
    *,
    fallback: Fallback | None,
    note: str | None = None,
    requests: int = 0,
) -> Answer:
    """The planner's answer: its tool calls, rendered from templates."""
    outcomes = await run_calls(ctx, planner.tool_calls(plan, ctx.universe))
    return Answer(
        text=_offline_text(plan, outcomes, ctx),
        mode="offline",
        tool_calls=records(outcomes),
        ungrounded=[],
        llm_requests=requests,
        fallback=fallback,
        note=note,
    )


def _offline_text(plan: Plan, outcomes: Sequence[Outcome], ctx: ToolContext) -> str:
    if outcomes:
        return prose.render(outcomes, ctx.lang, plan)
    if plan.intent in planner.ANSWERED_IN_WORDS:
        return prose.in_words(plan, ctx.universe, ctx.lang)
    if plan.intent == "help":
        return prose.help_text(ctx.lang)
    if plan.intent == "whatif" and plan.companies:
        return t("ans_whatif_howto", ctx.lang)
    names = [c.name.zh if ctx.lang == "zh" else c.name.en for c in ctx.universe.companies.values()]
    return prose.need_company(names, ctx.lang)


async def run_calls(ctx: ToolContext, calls: Sequence[tuple[str, Any]]) -> list[Outcome]:
    """Run tool calls side by side (each in a worker thread: they read SQLite and numpy)."""
    return list(
        await asyncio.gather(
            *(asyncio.to_thread(registry.call, name, args, ctx) for name, args in calls)
        )
    )


def records(outcomes: Sequence[Outcome]) -> list[ToolCallRecord]:
    return [
        ToolCallRecord(
            name=o.name,
            arguments=o.arguments,
            result=o.result(),
            # ids: "pre_<i>" for the prefetched calls (_converse), "" for the planner's own
            by_llm=bool(o.call_id) and not o.call_id.startswith("pre_"),
        )
        for o in outcomes
    ]


# --- with the LLM ---


async def _with_llm(state: TurnState, history: Sequence[Turn]) -> Answer:
    from bot.agent.client import LLMUnavailable  # loaded by answer() already

    fallback: Fallback = "time_budget"
    try:
        async with asyncio.timeout(state.settings.budget_seconds):
            return await _converse(state, history)
    except TimeoutError:
        log.warning("LLM answer exceeded the %ss budget", state.settings.budget_seconds)
    except LLMUnavailable as exc:
        log.warning("LLM unavailable (%s: %s); answering offline", exc.kind, exc)
        fallback = FALLBACKS.get(exc.kind, "llm_error")
    note = t(NOTES[fallback], state.ctx.lang)
    return await offline(
        state.plan, state.ctx, fallback=fallback, note=note, requests=state.counter.requests
    )


def _system(lang: Lang) -> str:
    return (
        files("inference_lens_prompts").joinpath(f"system.{lang}.txt").read_text(encoding="utf-8")
    )


def _opening(state: TurnState, history: Sequence[Turn]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": _system(state.ctx.lang)}]
    for turn in history[-HISTORY_TURNS:]:
        messages.append({"role": "user", "content": turn.question})
        messages.append({"role": "assistant", "content": turn.answer[:HISTORY_CHARS]})
    messages.append({"role": "user", "content": state.question})
    return messages


async def _converse(state: TurnState, history: Sequence[Turn]) -> Answer:
    state.messages = _opening(state, history)
    if state.plan.confident:
        # Prefetch: the results arrive as if the LLM had asked, so it can explain them at once.
        planned = planner.tool_calls(state.plan, state.ctx.universe)
        await _add_tool_round(state, [(f"pre_{i}", n, a) for i, (n, a) in enumerate(planned)])
    rounds = 0
    while True:
        last = rounds >= state.settings.max_tool_rounds
        message = await _ask(state, tool_choice="none" if last else "auto")
        calls = message.tool_calls or []
        if not calls or last:
            return await _grounded(state, (message.content or "").strip())
        rounds += 1
        requested = [_requested(c, f"call_{rounds}_{i}") for i, c in enumerate(calls)]
        state.messages.append(_assistant_calls(requested, message.content))
        await _add_tool_round(state, requested, announce=False)


def _requested(call: Any, fallback_id: str) -> tuple[str, str, Any]:
    """(id, name, arguments) of a tool call, whatever a lax server left out."""
    function = getattr(call, "function", None)
    name = getattr(function, "name", None) or ""
    return getattr(call, "id", None) or fallback_id, name, getattr(function, "arguments", None)


async def _ask(state: TurnState, tool_choice: str) -> ChatCompletionMessage:
    from bot.agent.client import complete

    return await complete(
        state.settings,
        state.deadline,
        state.counter,
        messages=state.messages,
        tools=registry.schemas(),
        tool_choice=tool_choice,
    )


def _assistant_calls(
    calls: Sequence[tuple[str, str, Any]], content: str | None = None
) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": content,
        "tool_calls": [
            {"id": cid, "type": "function", "function": {"name": name, "arguments": _json(args)}}
            for cid, name, args in calls
        ],
    }


def _json(arguments: Any) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)


async def _add_tool_round(
    state: TurnState, calls: Sequence[tuple[str, str, Any]], announce: bool = True
) -> None:
    """Run the calls and append their results (with the assistant message asking for them
    when `announce`, i.e. for prefetched calls the LLM did not make)."""
    if not calls:
        return
    outcomes = await run_calls(state.ctx, [(name, args) for _, name, args in calls])
    for (cid, _, _), outcome in zip(calls, outcomes, strict=True):
        outcome.call_id = cid
    if announce:
        state.messages.append(_assistant_calls(calls))
    state.messages += [
        {"role": "tool", "tool_call_id": o.call_id, "content": o.content()} for o in outcomes
    ]
    state.outcomes += outcomes


async def _grounded(state: TurnState, text: str) -> Answer:
    """Let the answer out only if its claims are supported; else one repair, else render."""
    evidence = grounding.Evidence.of(
        [o.result() for o in state.outcomes],
        [o.arguments for o in state.outcomes],
        state.question,
        grounding.names_of(state.ctx.universe),
    )
    if not text:
        log.warning("LLM gave no answer text for chat %s; rendering the results", state.ctx.chat_id)
        return await _rendered(state, [], "empty")
    rejected = grounding.check(text, evidence).rejected
    if not rejected:
        return _llm_answer(state, text, [])
    grounding.log_rejection(rejected, state.ctx.chat_id, "first")
    state.messages.append({"role": "assistant", "content": text})
    state.messages.append({"role": "user", "content": _repair_request(rejected, state.ctx)})
    repaired = ((await _ask(state, tool_choice="none")).content or "").strip()
    still = (
        grounding.check(repaired, evidence).rejected
        if repaired
        else [grounding.Rejected(text="<no text>", subject="", reason="empty")]
    )
    if not still:
        return _llm_answer(state, repaired, rejected)
    grounding.log_rejection(still, state.ctx.chat_id, "repaired")
    return await _rendered(state, grounding.unique([*rejected, *still]), "grounding")


def _repair_request(rejected: list[grounding.Rejected], ctx: ToolContext) -> str:
    """In the user's language: each unsupported claim, its subject and, if known, the right value."""
    lines = []
    for r in rejected:
        company = ctx.universe.companies.get(r.subject)
        subject = (
            company.name.zh if company and ctx.lang == "zh" else company.name.en if company else "-"
        )
        key = "repair_claim_expected" if r.expected else "repair_claim"
        lines.append(t(key, ctx.lang, text=r.text, subject=subject, expected=r.expected or ""))
    return t("repair_request", ctx.lang, claims="; ".join(lines))


def _llm_answer(state: TurnState, text: str, ungrounded: list[grounding.Rejected]) -> Answer:
    return Answer(
        text=text,
        mode="llm",
        tool_calls=records(state.outcomes),
        ungrounded=ungrounded,
        llm_requests=state.counter.requests,
        note=None,
    )


async def _rendered(
    state: TurnState, ungrounded: list[grounding.Rejected], fallback: Fallback
) -> Answer:
    """The deterministic rendering of this turn's results (the planner's, if there were none)."""
    note = t(NOTES[fallback], state.ctx.lang)
    useful = [o for o in state.outcomes if o.ok]
    if not useful:
        planned = await offline(
            state.plan, state.ctx, fallback=fallback, note=note, requests=state.counter.requests
        )
        return planned.model_copy(update={"ungrounded": ungrounded})
    return Answer(
        text=prose.render(useful, state.ctx.lang, state.plan),
        mode="offline",
        tool_calls=records(state.outcomes),
        ungrounded=ungrounded,
        llm_requests=state.counter.requests,
        fallback=fallback,
        note=note,
    )
