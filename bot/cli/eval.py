"""`inference-lens eval`: a question set asked of the configured LLM through the real agent,
and what an operator needs to choose a model — how many answers the LLM wrote, claims the
gate rejected, fallbacks by reason, the LLM's own tool calls against the planner's plan, LLM
requests, tokens and latency.

The default set ships inside the package (eval_questions.yaml: the public seed questions), so
an installed program evaluates without a checkout; `--questions` takes any file of the same
shape, chains of follow-ups included (bench/data/questions.yaml). Questions are asked one at a
time, each chain in a chat of its own that no earlier run has seen, so latency is a single
user's and no answer leans on another run's memory.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from bot.agent import planner, registry
from bot.agent.answers import Answer, ToolCallRecord
from bot.agent.loop import answer
from bot.settings import LLMSettings
from bot.text.evaluation import Latency, ModelReport, QuestionResult, ToolAccuracy, ToolCall
from bot.text.i18n import Lang, t
from tools.errors import BadArgument, UnknownCompany
from tools.resolve import Resolver
from tools.store import Store
from tools.universe import Universe


class Turn(BaseModel):
    # A set may say more about each question (the planner's expectations); eval needs the words.
    model_config = ConfigDict(extra="ignore")
    q: str = Field(min_length=1)


class Chain(BaseModel):
    chain: list[Turn] = Field(min_length=1)


QuestionSet = TypeAdapter(list[Turn | Chain])


def load(path: Path | None, limit: int | None, lang: Lang) -> list[list[str]]:
    """The chats to run (each a list of questions), at most `limit` questions in all."""
    try:
        text = (
            path.read_text(encoding="utf-8")
            if path
            else files("bot.cli").joinpath("eval_questions.yaml").read_text(encoding="utf-8")
        )
        entries = QuestionSet.validate_python(yaml.safe_load(text))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValidationError) as exc:
        raise BadArgument(t("eval_bad_questions", lang, path=path, detail=exc)) from None
    chats: list[list[str]] = []
    asked = 0
    for entry in entries:
        turns = entry.chain if isinstance(entry, Chain) else [entry]
        if limit is not None:
            turns = turns[: limit - asked]
        if not turns:
            break
        chats.append([turn.q for turn in turns])
        asked += len(turns)
    return chats


def evaluate(
    store: Store, settings: LLMSettings, path: Path | None, limit: int | None, lang: Lang
) -> ModelReport:
    if not settings.enabled:
        raise BadArgument(t("eval_needs_llm", lang))
    if limit is not None and limit < 1:
        raise BadArgument(t("eval_bad_limit", lang))
    chats = load(path, limit, lang)
    universe = store.universe()
    results = asyncio.run(_ask_all(store, settings, chats, universe))
    return summary(settings, results)


async def _ask_all(
    store: Store, settings: LLMSettings, chats: Sequence[Sequence[str]], universe: Universe
) -> list[QuestionResult]:
    # Loaded before the clock starts: importing openai (~1 s) is not the first answer's latency.
    from bot.agent import client  # noqa: F401

    run = uuid.uuid4().hex[:8]
    resolver = Resolver(universe.companies.values())
    results = []
    for n, chat in enumerate(chats):
        for question in chat:
            started = time.perf_counter()
            a = await answer(question, store=store, settings=settings, chat_id=f"eval-{run}-{n}")
            seconds = time.perf_counter() - started
            results.append(judged(question, a, seconds, universe, resolver))
    return results


def judged(
    question: str, a: Answer, seconds: float, universe: Universe, resolver: Resolver
) -> QuestionResult:
    """One answer measured: its mode and costs, and the LLM's own calls against the plan."""
    planned = planner.tool_calls(a.plan, universe) if a.plan else []
    own = [c for c in a.tool_calls if c.by_llm]
    wanted = [_normal(name, args, resolver) for name, args in planned]
    names = {name for name, _ in planned}
    return QuestionResult(
        question=question,
        mode=a.mode,
        fallback=a.fallback,
        in_words=a.plan is not None and a.plan.intent in planner.ANSWERED_IN_WORDS,
        rejected=[r.text for r in a.ungrounded],
        llm_requests=a.llm_requests,
        prompt_tokens=a.llm_prompt_tokens,
        completion_tokens=a.llm_completion_tokens,
        seconds=seconds,
        planned=[ToolCall(name=name, arguments=args) for name, args in planned],
        llm_calls=[ToolCall(name=c.name, arguments=c.arguments) for c in own],
        right_tool=sum(c.name in names for c in own),
        right_args=sum(_as_planned(c, wanted, resolver) for c in own),
    )


def _as_planned(
    call: ToolCallRecord, wanted: list[tuple[str, dict[str, Any]] | None], resolver: Resolver
) -> bool:
    mine = _normal(call.name, call.arguments, resolver)
    return mine is not None and mine in wanted


def _normal(
    name: str, arguments: dict[str, Any] | str, resolver: Resolver
) -> tuple[str, dict[str, Any]] | None:
    """A call as the tool reads it, so equal requests compare equal: defaults filled in, a
    company named any way it resolves to, compared companies in any order. None when the
    tool would refuse it."""
    tool = registry.TOOLS.get(name)
    if tool is None or not isinstance(arguments, dict):
        return None
    try:
        args = tool.args.model_validate(arguments).model_dump()
    except ValidationError:
        return None
    if "company" in args:
        args["company"] = _company(args["company"], resolver)
    if "companies" in args:
        args["companies"] = sorted(_company(c, resolver) for c in args["companies"])
    return name, args


def _company(query: str, resolver: Resolver) -> str:
    try:
        return resolver.resolve(query)
    except UnknownCompany:
        return query


def summary(settings: LLMSettings, results: list[QuestionResult]) -> ModelReport:
    sent = [r for r in results if not r.in_words]
    answered = sum(r.mode == "llm" for r in sent)
    judged_calls = [r for r in results if r.planned]
    seconds = sorted(r.seconds for r in sent)
    return ModelReport(
        model=settings.model,
        base_url=settings.base_url,
        questions=len(results),
        sent_to_llm=len(sent),
        answered_by_llm=answered,
        llm_share=answered / len(sent) if sent else None,
        claims_rejected=sum(len(r.rejected) for r in results),
        fallbacks=dict(Counter(r.fallback for r in sent if r.fallback)),
        tool_calls=ToolAccuracy(
            calls=sum(len(r.llm_calls) for r in results),
            judged=sum(len(r.llm_calls) for r in judged_calls),
            right_tool=sum(r.right_tool for r in judged_calls),
            right_args=sum(r.right_args for r in judged_calls),
        ),
        llm_requests=sum(r.llm_requests for r in results),
        prompt_tokens=sum(r.prompt_tokens for r in results),
        completion_tokens=sum(r.completion_tokens for r in results),
        latency=Latency(p50=_percentile(seconds, 0.5), p95=_percentile(seconds, 0.95)),
        results=results,
    )


def _percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest rank: the smallest value with at least p of the values at or below it."""
    return ordered[max(math.ceil(p * len(ordered)) - 1, 0)] if ordered else 0.0
