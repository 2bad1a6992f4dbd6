"""Talking to an OpenAI-compatible chat.completions endpoint: one cached client per event loop,
and a request that retries timeouts, 429s and 5xx (honouring Retry-After) within a deadline.

The SDK's own retries are off (max_retries=0) so tenacity alone decides and attempts don't
multiply. Errors that waiting will not fix are not retried: an account out of quota, a prompt
longer than the model's context, a server without tool support. The last is remembered for
the process, so later questions go to that endpoint as plain completions at once. A proxy
that streams although no stream was asked for is read all the same.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import time
import weakref
from collections.abc import Callable
from typing import Any, Literal

import openai
from openai.types.chat.chat_completion import Choice
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from bot.settings import LLMSettings

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 4.0

# "context": the prompt does not fit the model's context; "no_tools": the server cannot take
# tool definitions.
Failure = Literal["timeout", "quota", "error", "context", "no_tools"]

# How servers word a prompt too long for the context: OpenAI, vLLM and llama-cpp-python
# ("This model's maximum context length is 2048 tokens"), OpenAI's code, llama.cpp's own
# server ("the request exceeds the available context size"), llama-cpp-python's engine
# ("Requested tokens (2100) exceed context window of 2048"), DashScope ("Range of input length").
_CONTEXT = re.compile(
    r"maximum context length|context_length_exceeded|exceeds? (?:the )?available context"
    r"|exceeds? context window|context window of|range of input length|prompt is too long",
    re.IGNORECASE,
)
# How servers say they take no tools: Ollama ("does not support tools"), vLLM ("auto" tool
# choice requires --enable-auto-tool-choice), LM Studio and proxies ("tools are not supported").
_NO_TOOLS = re.compile(
    r"(?:does not|doesn't|do not|don't) support (?:tools|tool|function)"
    r"|tools? (?:calling |use |choice )?(?:is |are )?not supported|tool choice requires"
    r"|(?:unsupported|unrecognized|unknown|extra).{0,40}\btools\b",
    re.IGNORECASE,
)


class LLMUnavailable(Exception):
    """The endpoint could not give an answer in time; `kind` picks the note users see."""

    def __init__(self, kind: Failure, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Any, openai.AsyncOpenAI]] = (
    weakref.WeakKeyDictionary()
)


def client_for(settings: LLMSettings) -> openai.AsyncOpenAI:
    """One client per event loop and endpoint: building one costs ~20 ms (TLS context), and an
    httpx connection pool must not outlive or cross its loop."""
    per_loop = _clients.setdefault(asyncio.get_running_loop(), {})
    key = (settings.base_url, settings.api_key)
    if key not in per_loop:
        per_loop[key] = openai.AsyncOpenAI(
            api_key=settings.key(),
            base_url=settings.base_url,
            max_retries=0,
            timeout=settings.request_timeout,
        )
    return per_loop[key]


# Endpoints (base URL, model) found to take no tool definitions, for the life of the process.
_text_only: set[tuple[str | None, str]] = set()


def takes_tools(settings: LLMSettings) -> bool:
    return (settings.base_url, settings.model) not in _text_only


def takes_no_tools(settings: LLMSettings, why: str) -> LLMUnavailable:
    """Remember that the endpoint takes no tools; the error that says so."""
    log.warning("%s takes no tools (%s); plain completions from now on", settings.model, why)
    _text_only.add((settings.base_url, settings.model))
    return LLMUnavailable("no_tools", why)


def _said(exc: openai.APIStatusError) -> str:
    return f"{exc.code or ''} {exc.message} {exc.body}"


def failure_of(exc: openai.APIStatusError) -> Failure:
    """Why a server refused: the kinds no retry can fix, else "error"."""
    said = _said(exc)
    if exc.code == "insufficient_quota" or "insufficient_quota" in said:
        return "quota"
    if exc.status_code in (400, 413, 422, 500) and _CONTEXT.search(said):
        return "context"
    if exc.status_code in (400, 404, 422, 500, 501) and _NO_TOOLS.search(said):
        return "no_tools"
    return "error"


def retryable(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    return (
        isinstance(exc, openai.APIStatusError)
        and exc.status_code in RETRY_STATUS
        and failure_of(exc) == "error"
    )


def retry_after(exc: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (Retry-After / retry-after-ms), if it said."""
    if not isinstance(exc, openai.APIStatusError):
        return None
    headers = exc.response.headers
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            return max(float(headers[name]) * scale, 0.0)
        except (KeyError, ValueError):
            continue
    return None


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    asked = retry_after(exc)
    if asked is not None:
        return asked
    backoff = min(BACKOFF_FIRST * 2 ** (state.attempt_number - 1), BACKOFF_MAX)
    return backoff * random.uniform(0.8, 1.2)  # jitter: many chats must not retry in step


def _stopper(settings: LLMSettings, deadline: float) -> Callable[[RetryCallState], bool]:
    """Stop after max_attempts, or when the next wait would end past the deadline."""

    def stop(state: RetryCallState) -> bool:
        too_late = time.monotonic() + state.upcoming_sleep >= deadline
        return state.attempt_number >= settings.max_attempts or too_late

    return stop


class Counter:
    """LLM requests made, seconds spent waiting for them (the benchmark's split) and the
    tokens the server says they used (`inference-lens eval`)."""

    def __init__(self) -> None:
        self.requests = 0
        self.seconds = 0.0
        self.prompt_tokens = 0
        self.completion_tokens = 0


async def complete(
    settings: LLMSettings, deadline: float, counter: Counter, **request: Any
) -> Choice:
    """One chat completion's choice, retried within `deadline` (a time.monotonic() value)."""
    client = client_for(settings)
    retrying = AsyncRetrying(
        retry=retry_if_exception(retryable),
        wait=_wait,
        stop=_stopper(settings, deadline),
        reraise=True,
    )
    try:
        return await retrying(_create, client, settings, deadline, counter, request)
    except openai.APIStatusError as exc:
        kind = failure_of(exc)
        if kind == "no_tools":
            raise takes_no_tools(settings, f"HTTP {exc.status_code}") from None
        raise LLMUnavailable(kind, f"HTTP {exc.status_code}") from None
    except openai.APITimeoutError:
        raise LLMUnavailable("timeout", "request timed out") from None
    except openai.APIConnectionError:
        raise LLMUnavailable("error", "connection failed") from None
    except (openai.APIError, ValueError) as exc:  # a 200 that is not a chat completion
        raise LLMUnavailable("error", f"unreadable response ({type(exc).__name__})") from None


async def _create(
    client: openai.AsyncOpenAI,
    settings: LLMSettings,
    deadline: float,
    counter: Counter,
    request: dict[str, Any],
) -> Choice:
    counter.requests += 1
    started = time.monotonic()
    timeout = max(min(settings.request_timeout, deadline - started), 0.1)
    try:
        response = await client.chat.completions.create(
            model=settings.model,
            timeout=timeout,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            **request,
        )
    finally:
        counter.seconds += time.monotonic() - started
    if isinstance(response, str):  # the SDK's reading of a body that is not JSON
        return assembled(response)
    # Optional in the protocol, and lax servers leave fields out or null: count what is said.
    usage = getattr(response, "usage", None)
    counter.prompt_tokens += getattr(usage, "prompt_tokens", None) or 0
    counter.completion_tokens += getattr(usage, "completion_tokens", None) or 0
    if not response.choices or response.choices[0].message is None:
        raise LLMUnavailable("error", "response without choices")
    return response.choices[0]


FINISHES = frozenset({"stop", "length", "tool_calls", "content_filter", "function_call"})


def assembled(body: str) -> Choice:
    """The completion a streaming-only proxy sent as server-sent events although no stream
    was asked for: its content and tool-call pieces joined (anything else is unreadable)."""
    events = [line[5:].strip() for line in body.splitlines() if line.startswith("data:")]
    chunks = [json.loads(e) for e in events if e and e != "[DONE]"]
    if not chunks:
        raise LLMUnavailable("error", "unreadable response (not JSON)")
    text: list[str] = []
    calls: dict[int, dict[str, str]] = {}
    finish = "stop"
    for choice in (c for chunk in chunks for c in chunk.get("choices", [])[:1]):
        delta = choice.get("delta") or {}
        text.append(delta.get("content") or "")
        for piece in delta.get("tool_calls") or []:
            call = calls.setdefault(piece.get("index", 0), {"id": "", "name": "", "arguments": ""})
            function = piece.get("function") or {}
            call["id"] = piece.get("id") or call["id"]
            call["name"] += function.get("name") or ""
            call["arguments"] += function.get("arguments") or ""
        finish = choice.get("finish_reason") or finish
    tool_calls = [
        {
            "id": c["id"],
            "type": "function",
            "function": {"name": c["name"], "arguments": c["arguments"]},
        }
        for c in calls.values()
    ]
    message = {"role": "assistant", "content": "".join(text), "tool_calls": tool_calls or None}
    finish = finish if finish in FINISHES else "stop"
    return Choice.model_validate({"index": 0, "message": message, "finish_reason": finish})
