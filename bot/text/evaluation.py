"""What `inference-lens eval` reports about one model, and how it is said.

The result models live here rather than in bot.cli because a renderer may only import lower
floors; `eval --json` is their dump. The report is one summary row (a table per model, so two
runs read side by side), the fallbacks by reason, then one row per question.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from bot.text import fmt
from bot.text.doc import Col, Doc, Line, Table
from bot.text.i18n import Lang, t


class ToolCall(BaseModel):
    name: str
    arguments: dict[str, Any] | str


class QuestionResult(BaseModel):
    """One question as the agent answered it."""

    question: str
    mode: Literal["llm", "offline"]
    fallback: str | None  # why the answer is offline (answers.Fallback), None when it is not
    in_words: bool  # answered in set words (subscriptions, refusals): never sent to the LLM
    rejected: list[str]  # the claims the grounding gate refused, as the LLM wrote them
    llm_requests: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float  # the whole answer, as the user waits for it
    planned: list[ToolCall]  # the offline planner's calls for the question
    llm_calls: list[ToolCall]  # the calls the LLM made itself (not the prefetched ones)
    right_tool: int  # of llm_calls: a tool the plan calls (judged only when there is a plan)
    right_args: int  # of llm_calls: a planned call, arguments and all


class ToolAccuracy(BaseModel):
    """The LLM's own tool calls against the planner's plan."""

    calls: int
    judged: int  # calls on questions the planner has calls for; the rest have no reference
    right_tool: int
    right_args: int


class Latency(BaseModel):
    """Seconds per answer over the questions sent to the LLM (nearest-rank percentiles)."""

    p50: float
    p95: float


class ModelReport(BaseModel):
    model: str
    base_url: str | None
    questions: int
    sent_to_llm: int
    answered_by_llm: int
    llm_share: float | None  # answered_by_llm / sent_to_llm
    claims_rejected: int
    fallbacks: dict[str, int]
    tool_calls: ToolAccuracy
    llm_requests: int
    prompt_tokens: int
    completion_tokens: int
    latency: Latency
    results: list[QuestionResult]


# Why an answer is offline (answers.Fallback) → its words in the report.
FALLBACK_WORDS = {
    "no_llm": "eval_fallback_no_llm",
    "daily_limit": "eval_fallback_daily_limit",
    "llm_error": "eval_fallback_llm_error",
    "llm_quota": "eval_fallback_llm_quota",
    "llm_context": "eval_fallback_llm_context",
    "time_budget": "eval_fallback_time_budget",
    "empty": "eval_fallback_empty",
    "unusable": "eval_fallback_unusable",
    "grounding": "eval_fallback_grounding",
}


def report(r: ModelReport, lang: Lang) -> Doc:
    doc = Doc(t("eval_title", lang, model=r.model, n=r.questions))
    if r.base_url:
        doc.add(Line(r.base_url, "note"))
    doc.add(_summary(r, lang), Line(_fallbacks(r.fallbacks, lang)))
    doc.add(_questions(r.results, lang), Line(t("eval_how", lang), "note"))
    return doc


def _summary(r: ModelReport, lang: Lang) -> Table:
    cols = [
        Col(t("eval_col_model", lang), "name"),
        Col(t("eval_col_llm_share", lang), "value", right=True),
        Col(t("eval_col_rejected", lang), labelled=True, right=True),
        Col(t("eval_col_fallbacks", lang), labelled=True, right=True),
        Col(t("eval_col_tool_accuracy", lang), labelled=True, right=True),
        Col(t("eval_col_requests", lang), labelled=True, right=True),
        Col(t("eval_col_tokens", lang), labelled=True, right=True),
        Col("p50", labelled=True, right=True),
        Col("p95", labelled=True, right=True),
    ]
    row = [
        r.model,
        _share(r.answered_by_llm, r.sent_to_llm),
        str(r.claims_rejected),
        str(sum(r.fallbacks.values())),
        _accuracy(r.tool_calls, lang),
        str(r.llm_requests),
        f"{r.prompt_tokens}/{r.completion_tokens}",
        _seconds(r.latency.p50, lang),
        _seconds(r.latency.p95, lang),
    ]
    return Table(cols, [row])


def _accuracy(acc: ToolAccuracy, lang: Lang) -> str:
    if acc.judged:
        right = _share(acc.right_args, acc.judged)
        return t("eval_accuracy", lang, right=right, tools=f"{acc.right_tool}/{acc.judged}")
    return t("eval_unjudged", lang, n=acc.calls) if acc.calls else t("eval_none", lang)


def _fallbacks(fallbacks: dict[str, int], lang: Lang) -> str:
    if not fallbacks:
        return t("eval_no_fallbacks", lang)
    items = [f"{t(FALLBACK_WORDS[k], lang)} {n}" for k, n in sorted(fallbacks.items())]
    return t("eval_fallbacks", lang, reasons=", ".join(items))


def _questions(results: list[QuestionResult], lang: Lang) -> Table:
    cols = [
        Col("#", "rank", right=True),
        Col(t("eval_col_question", lang), "name"),
        Col(t("eval_col_answer", lang), "value"),
        Col(t("eval_col_requests", lang), labelled=True, right=True),
        Col(t("eval_col_own_calls", lang), labelled=True, right=True),
        Col(t("eval_col_seconds", lang), labelled=True, right=True),
    ]
    rows = [
        [
            str(i),
            _cut(q.question),
            _answered(q, lang),
            str(q.llm_requests),
            _own_calls(q),
            _seconds(q.seconds, lang),
        ]
        for i, q in enumerate(results, 1)
    ]
    return Table(cols, rows)


def _own_calls(q: QuestionResult) -> str:
    """'1/2' right of the LLM's calls; a bare count when the planner has none to judge by."""
    if not q.llm_calls:
        return ""
    return f"{q.right_args}/{len(q.llm_calls)}" if q.planned else str(len(q.llm_calls))


def _answered(q: QuestionResult, lang: Lang) -> str:
    if q.in_words:
        return t("eval_in_words", lang)
    if q.fallback:
        return t(FALLBACK_WORDS[q.fallback], lang)
    return t("eval_by_llm", lang)


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({fmt.pct(part / whole)})" if whole else "0/0"


def _seconds(x: float, lang: Lang) -> str:
    return t("eval_seconds", lang, s=f"{x:.1f}")


def _cut(question: str, limit: int = 40) -> str:
    """A question short enough for its column (a whole set fits a terminal)."""
    return question if len(question) <= limit else question[: limit - 1] + "…"
