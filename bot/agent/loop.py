"""The analyst agent: `answer()` turns a question into a grounded answer.

With an LLM: the planner's results are prefetched when it is confident (so one request
usually suffices), the LLM may call tools for up to 4 rounds, and the grounding gate checks
every number before the answer leaves. Without one, or when it fails or runs out of time,
the offline planner answers from the same tools.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from bot.agent import answer_shape, grounding, memory, planner, prose, registry, wire
from bot.agent.answers import Action, Answer, Fallback, ToolCallRecord
from bot.agent.memory import Turn
from bot.agent.planner import Plan
from bot.agent.registry import Outcome, ToolContext
from bot.settings import LLMSettings
from bot.text.i18n import Lang, t
from tools.store import Store
from tools.taxonomy import DEFAULT_METRIC

if TYPE_CHECKING:  # the client (and openai) loads only when an LLM is configured: cold start
    from bot.agent.client import Choice, Counter

log = logging.getLogger(__name__)

HISTORY_TURNS = 3  # earlier turns sent to the LLM; more cost tokens and rarely help
HISTORY_CHARS = 600
# A tool result's length once the prompt overflowed the context: room for a ranking's top
# rows in a 2,048-token context (llama.cpp's default for small models).
SMALL_RESULT_CHARS = 1500


# Why the LLM was unavailable (client.LLMUnavailable.kind) → the fallback it makes.
FALLBACKS: dict[str, Fallback] = {
    "quota": "llm_quota",
    "timeout": "time_budget",
    "context": "llm_context",
}
NOTES: dict[str, str] = {  # the note under an answer that the LLM did not write
    "llm_error": "note_llm_error",
    "llm_quota": "note_llm_quota",
    "time_budget": "note_llm_timeout",
    "llm_context": "note_llm_context",
    "empty": "note_llm_empty",
    "unusable": "note_llm_unusable",
    "grounding": "note_ungrounded",
}


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
    prefetched: list[Outcome] = field(default_factory=list)  # the planner's, sent unasked
    tools: bool = True  # the server takes tool definitions
    small: bool = False  # the prompt overflowed once: no history, shorter results

    @functools.cached_property
    def names(self) -> tuple[tuple[str, str], ...]:
        """Every name a company may be written by, with its id (the gate's and the guard's)."""
        return grounding.names_of(self.ctx.universe)

    @property
    def result_chars(self) -> int:
        return SMALL_RESULT_CHARS if self.small else registry.MAX_RESULT_CHARS


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
    return prose.need_company(ctx.universe, ctx.lang)


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
            return await _fitted(state, history)
    except TimeoutError:
        log.warning("LLM answer exceeded the %ss budget", state.settings.budget_seconds)
    except LLMUnavailable as exc:
        log.warning("LLM unavailable (%s: %s); answering offline", exc.kind, exc)
        fallback = FALLBACKS.get(exc.kind, "llm_error")
    return await _rendered(state, [], fallback)


async def _fitted(state: TurnState, history: Sequence[Turn]) -> Answer:
    """The conversation, begun again (once each) when the prompt exceeds the model's context
    (no history, shorter results, and no tool definitions beside prefetched results: they
    alone cost ~1,200 tokens) and without tools when the server has none or parses none."""
    from bot.agent.client import LLMUnavailable, takes_tools

    while True:
        state.tools = takes_tools(state.settings) and not (state.small and state.prefetched)
        try:
            return await _converse(state, [] if state.small else history)
        except LLMUnavailable as exc:
            if exc.kind == "context" and not state.small:
                log.warning("prompt too long for %s; once more, shorter", state.settings.model)
                state.small = True
            elif not (exc.kind == "no_tools" and state.tools):
                raise


def _system(lang: Lang) -> str:
    return (
        files("inference_lens_prompts").joinpath(f"system.{lang}.txt").read_text(encoding="utf-8")
    )


def _opening(state: TurnState, history: Sequence[Turn]) -> list[dict[str, Any]]:
    """System prompt, earlier turns, the question and the prefetched results: as tool
    messages, or inside the question for a server without tools."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": _system(state.ctx.lang)}]
    for turn in history[-HISTORY_TURNS:]:
        messages.append({"role": "user", "content": turn.question})
        messages.append({"role": "assistant", "content": turn.answer[:HISTORY_CHARS]})
    limit, pre = state.result_chars, state.prefetched
    if not state.tools:
        question = wire.with_results(state.question, pre, limit, state.ctx.lang)
        return [*messages, {"role": "user", "content": question}]
    messages.append({"role": "user", "content": state.question})
    if pre:
        messages.append(wire.assistant_calls([(o.call_id, o.name, o.arguments) for o in pre]))
        messages += wire.tool_results(pre, limit)
    return messages


async def _converse(state: TurnState, history: Sequence[Turn]) -> Answer:
    if state.plan.confident and not state.prefetched:
        # Prefetch: the results arrive as if the LLM had asked, so it can explain them at once.
        planned = planner.tool_calls(state.plan, state.ctx.universe)
        state.prefetched = await _run_round(
            state, [(f"pre_{i}", n, a) for i, (n, a) in enumerate(planned)]
        )
    state.messages = _opening(state, history)
    rounds = 0
    while True:
        last = rounds >= state.settings.max_tool_rounds or not state.tools
        choice = await _ask(state, last)
        calls = wire.requested(choice.message, rounds + 1) if state.tools else []
        text = wire.text_of(choice.message, choice.finish_reason)
        if state.tools and not calls and answer_shape.TOOL_SYNTAX.search(text):
            from bot.agent.client import takes_no_tools

            # A tool call written as text: the server parses none (vLLM without a parser,
            # a chat template without tools), so tool results would never come back.
            raise takes_no_tools(state.settings, "tool call in the text")
        if not calls or last:
            return await _grounded(state, text)
        rounds += 1
        state.messages.append(wire.assistant_calls(calls, choice.message.content))
        outcomes = await _run_round(state, calls)
        state.messages += wire.tool_results(outcomes, state.result_chars)


async def _ask(state: TurnState, last: bool) -> Choice:
    """One request: with the tools (none to be called when `last`), if the server takes them."""
    from bot.agent.client import complete

    request: dict[str, Any] = {"messages": state.messages}
    if state.tools:
        request |= {"tools": registry.schemas(), "tool_choice": "none" if last else "auto"}
    return await complete(state.settings, state.deadline, state.counter, **request)


async def _run_round(state: TurnState, calls: Sequence[wire.Call]) -> list[Outcome]:
    """Run one round of tool calls, keeping their results for the gate and the record."""
    outcomes = await run_calls(state.ctx, [(name, args) for _, name, args in calls])
    for (cid, _, _), outcome in zip(calls, outcomes, strict=True):
        outcome.call_id = cid
    state.outcomes += outcomes
    return outcomes


def _evidence(state: TurnState) -> grounding.Evidence:
    # An error result is no evidence: "no data for 1230" must not make 1230 a supported figure.
    found = [o for o in state.outcomes if o.ok]
    return grounding.Evidence.of(
        [o.result() for o in found],
        [o.arguments for o in found],
        state.question,
        state.names,
    )


def _misshapen(state: TurnState, text: str) -> str | None:
    asked = [name for name, cid in state.names if cid in state.plan.companies]
    why = answer_shape.unusable(text, state.question, asked, [name for name, _ in state.names])
    if why:
        log.warning("LLM answer for chat %s is not an answer (%s)", state.ctx.chat_id, why)
    return why


async def _grounded(state: TurnState, text: str) -> Answer:
    """Let the answer out only if it is one and its claims are supported; else one repair,
    else render."""
    if not text:
        log.warning("LLM gave no answer text for chat %s; rendering the results", state.ctx.chat_id)
        return await _rendered(state, [], "empty")
    if _misshapen(state, text):
        return await _rendered(state, [], "unusable")
    evidence = _evidence(state)
    rejected = grounding.check(text, evidence).rejected
    if not rejected:
        return _llm_answer(state, text, [])
    grounding.log_rejection(rejected, state.ctx.chat_id, "first")
    state.messages.append({"role": "assistant", "content": text})
    state.messages.append({"role": "user", "content": _repair_request(rejected, state.ctx)})
    choice = await _ask(state, last=True)
    repaired = wire.text_of(choice.message, choice.finish_reason)
    if not repaired:
        return await _rendered(state, rejected, "empty")
    if _misshapen(state, repaired):
        return await _rendered(state, rejected, "unusable")
    still = grounding.check(repaired, evidence).rejected
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
        # the LLM's calls stay on record (`ask --json`) beside the planner's
        calls = records(state.outcomes) + planned.tool_calls
        return planned.model_copy(update={"ungrounded": ungrounded, "tool_calls": calls})
    return Answer(
        text=prose.render(useful, state.ctx.lang, state.plan),
        mode="offline",
        tool_calls=records(state.outcomes),
        ungrounded=ungrounded,
        llm_requests=state.counter.requests,
        fallback=fallback,
        note=note,
    )
