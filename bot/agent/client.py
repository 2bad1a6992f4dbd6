"""Talking to an OpenAI-compatible chat.completions endpoint: one cached client per event loop,
and a request that retries timeouts, 429s and 5xx (honouring Retry-After) within a deadline.

The SDK's own retries are off (max_retries=0) so tenacity alone decides and attempts don't
multiply. An account out of quota is not retried: waiting will not fix it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import weakref
from collections.abc import Callable
from typing import Any, Literal

import openai
from openai.types.chat import ChatCompletionMessage
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception

from bot.settings import LLMSettings

log = logging.getLogger(__name__)

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 4.0

Failure = Literal["timeout", "quota", "error"]


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


def out_of_quota(exc: BaseException) -> bool:
    if not isinstance(exc, openai.APIStatusError):
        return False
    return exc.code == "insufficient_quota" or "insufficient_quota" in str(exc.body)


def retryable(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    return (
        isinstance(exc, openai.APIStatusError)
        and exc.status_code in RETRY_STATUS
        and not out_of_quota(exc)
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
) -> ChatCompletionMessage:
    """One chat completion's message, retried within `deadline` (a time.monotonic() value)."""
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
        kind: Failure = "quota" if out_of_quota(exc) else "error"
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
) -> ChatCompletionMessage:
    counter.requests += 1
    started = time.monotonic()
    timeout = max(min(settings.request_timeout, deadline - started), 0.1)
    try:
        response = await client.chat.completions.create(
            model=settings.model, timeout=timeout, **request
        )
    finally:
        counter.seconds += time.monotonic() - started
    # Optional in the protocol, and lax servers leave fields out or null: count what is said.
    usage = getattr(response, "usage", None)
    counter.prompt_tokens += getattr(usage, "prompt_tokens", None) or 0
    counter.completion_tokens += getattr(usage, "completion_tokens", None) or 0
    if not response.choices:
        raise LLMUnavailable("error", "response without choices")
    return response.choices[0].message
