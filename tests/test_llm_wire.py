"""Wire compatibility with the servers people run (issue 15): the fake server is as strict as
llama.cpp's (tests/fake_openai.py `llama_cpp`), and plays a small context, a server without
tools, lax tool calls, the deprecated function_call and replies cut at max_tokens.
"""

from __future__ import annotations

import json
import re

import pytest
from fake_openai import (
    FakeOpenAI,
    Reply,
    Request,
    completion,
    context_of,
    honest,
    llama_cpp,
    no_tools,
    streamed,
    tool_call,
)
from test_agent_cli import cli
from test_agent_llm import RANK_Q, VAGUE_Q, ask, llm, no_key_in_logs, sequence

from bot.agent import registry
from bot.settings import Settings, SettingsError
from bot.text.i18n import t
from tools.store import Store

__all__ = ["llm", "no_key_in_logs"]  # the fixtures, shared with test_agent_llm

GRAMMAR_UNSAFE = re.compile(r"\\[dDwWsSbB]|\(\?[=!<]")


def test_every_tool_schema_is_in_the_grammar_safe_subset():
    """llama.cpp turns each schema into a grammar: no \\d, \\w, \\s, no lookarounds."""
    patterns = re.findall(r'"pattern": "((?:[^"\\]|\\.)*)"', json.dumps(registry.schemas()))
    assert patterns, "the period pattern at least"
    assert [p for p in patterns if GRAMMAR_UNSAFE.search(json.loads(f'"{p}"'))] == []
    assert all(p.startswith("^") and p.endswith("$") for p in patterns)


async def test_strict_server_takes_prefetched_and_own_tool_calls(llm, store: Store):
    """Assistant messages carry content "" (null is an HTTP 500 on llama.cpp)."""
    server = llm(honest)
    prefetched = await ask(RANK_Q, store=store, chat_id="a")
    own = await ask(VAGUE_Q, store=store, chat_id="b")
    assert prefetched.mode == own.mode == "llm" and own.llm_requests == 2
    sent = [m for r in server.requests for m in r.messages if m["role"] == "assistant"]
    assert sent and all(m["content"] == "" for m in sent if m.get("tool_calls"))


async def test_max_tokens_and_temperature_are_sent(llm, store: Store):
    server = llm(honest)
    await ask(RANK_Q, store=store)
    defaults = server.requests[0].body
    assert defaults["max_tokens"] == 600 and defaults["temperature"] == 0.2
    server = llm(honest, INFERENCE_LENS_LLM_MAX_TOKENS="128", INFERENCE_LENS_LLM_TEMPERATURE="0")
    await ask(RANK_Q, store=store)
    assert server.requests[0].body["max_tokens"] == 128
    assert server.requests[0].body["temperature"] == 0


def test_budget_and_timeout_fit_cpu_only_local_models():
    local = Settings.load({"INFERENCE_LENS_LLM_BUDGET": "90"}).llm
    assert local.budget_seconds == 90 and local.request_timeout == 45  # half the budget
    assert Settings.load({}).llm.request_timeout == 22.5  # at least 20 s
    both = Settings.load({"INFERENCE_LENS_LLM_BUDGET": "600", "INFERENCE_LENS_LLM_TIMEOUT": "600"})
    assert both.llm.request_timeout == 600
    for name, value in [
        ("INFERENCE_LENS_LLM_BUDGET", "601"),
        ("INFERENCE_LENS_LLM_TIMEOUT", "0"),
        ("INFERENCE_LENS_LLM_MAX_TOKENS", "5"),
        ("INFERENCE_LENS_LLM_TEMPERATURE", "hot"),
    ]:
        with pytest.raises(SettingsError, match=name):
            Settings.load({name: value})


def test_ask_json_with_a_long_budget_keeps_the_llms_calls_after_a_failure(tmp_path):
    own = tool_call("company_profile", {"company": "xiaomi"}, "c1")
    script = sequence(completion(tool_calls=[own]), lambda r: Reply("<html>bad gateway</html>"))
    with FakeOpenAI(script, (llama_cpp,)) as server:
        done = cli(
            tmp_path, "ask", VAGUE_Q, "--json",
            OPENAI_BASE_URL=server.url, INFERENCE_LENS_LLM_BUDGET="90",
        )  # fmt: skip
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    data = json.loads(done.stdout)
    assert data["mode"] == "offline" and data["fallback"] == "llm_error"
    assert "company_profile" in [c["name"] for c in data["tool_calls"]]
    refused = cli(tmp_path, "ask", RANK_Q, INFERENCE_LENS_LLM_BUDGET="601")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "INFERENCE_LENS_LLM_BUDGET" in refused.stderr


async def test_context_overflow_is_retried_once_without_history_and_shorter(llm, store: Store):
    server = llm(honest, checks=(llama_cpp, context_of(5000)))
    await ask("What is MaaS?", store=store, chat_id="c")  # a turn of history
    before = len(server.requests)
    a = await ask(RANK_Q, store=store, chat_id="c")
    first, retry = server.requests[before:]
    assert len(json.dumps(first.messages)) > 5000
    assert a.mode == "llm" and a.llm_requests == 2 and a.ungrounded == []
    assert [m["role"] for m in retry.messages] == ["system", "user"]  # no history
    assert "tools" not in retry.body  # the prefetched results are in the question instead
    assert retry.messages[-1]["content"].startswith(RANK_Q) and '"rank"' not in retry.body


async def test_context_overflow_twice_gives_the_offline_answer_with_its_note(llm, store: Store):
    server = llm(honest, checks=(context_of(100),))
    a = await ask(RANK_Q, store=store)
    assert len(server.requests) == 2  # no other retries: waiting does not shorten a prompt
    assert a.mode == "offline" and a.fallback == "llm_context"
    assert a.note == t("note_llm_context", "en") and "Xiaomi ranks #" in a.text


async def test_a_server_without_tools_gets_plain_completions_from_then_on(llm, store: Store):
    server = llm(honest, checks=(llama_cpp, no_tools))
    first = await ask(RANK_Q, store=store, chat_id="a")
    assert len(server.requests) == 2 and "tools" in server.requests[0].body
    plain = server.requests[1]
    assert "tools" not in plain.body and "tool_choice" not in plain.body
    assert [m["role"] for m in plain.messages] == ["system", "user"]
    results = plain.messages[-1]["content"]
    assert results.startswith(RANK_Q) and "rank: {" in results
    assert first.mode == "llm" and first.ungrounded == [] and "Salesforce 85%" in first.text
    await ask("阿里算是卖水的还是用水的?", store=store, chat_id="b")
    assert "tools" not in server.requests[2].body  # found out once, for the process


async def test_a_server_that_parses_no_tool_calls_is_found_out_once(llm, store: Store):
    """A tool call written as text means the server parses none: plain completions then."""
    written = '<tool_call>{"name": "rank", "arguments": {}}</tool_call>'
    server = llm(lambda r: completion(written) if "tools" in r.body else honest(r))
    a = await ask(RANK_Q, store=store, chat_id="a")
    assert a.mode == "llm" and "Salesforce 85%" in a.text and len(server.requests) == 2
    assert "tools" in server.requests[0].body and "tools" not in server.requests[1].body
    await ask("阿里算是卖水的还是用水的?", store=store, chat_id="b")
    assert "tools" not in server.requests[2].body


async def test_tool_calls_without_ids_or_type_are_answered(llm, store: Store):
    bare = {"function": {"name": "rank", "arguments": "{}"}}
    server = llm(sequence(completion(tool_calls=[bare]), honest))
    a = await ask(VAGUE_Q, store=store)
    assert a.mode == "llm" and [c.name for c in a.tool_calls] == ["rank"]
    asked, answered = server.requests[1].messages[-2:]
    assert asked["tool_calls"][0]["id"] == answered["tool_call_id"] == "call_1_0"


async def test_the_deprecated_function_call_is_a_tool_call(llm, store: Store):
    legacy = {"name": "company_profile", "arguments": '{"company": "xiaomi"}'}
    llm(sequence(completion(function_call=legacy, finish_reason="function_call"), honest))
    a = await ask(VAGUE_Q, store=store)
    assert [c.name for c in a.tool_calls] == ["company_profile"]
    assert a.mode == "llm" and "Xiaomi" in a.text


async def test_an_answer_cut_at_max_tokens_keeps_its_whole_sentences(llm, store: Store):
    def cut(request: Request) -> Reply:
        text = honest(request).body["choices"][0]["message"]["content"]  # type: ignore[index]
        return completion(text + " Beyond that, Xiaomi also", finish_reason="length")

    llm(cut)
    a = await ask(RANK_Q, store=store)
    assert a.mode == "llm" and a.text.endswith(".") and "Beyond" not in a.text


async def test_an_answer_cut_before_its_first_sentence_ends_is_no_answer(llm, store: Store):
    llm(lambda r: completion("Xiaomi ranks", finish_reason="length"))
    a = await ask(RANK_Q, store=store)
    assert a.mode == "offline" and a.fallback == "empty" and a.note == t("note_llm_empty", "en")


async def test_figures_in_a_tool_error_are_not_evidence(llm, store: Store):
    llm(
        sequence(
            completion(tool_calls=[tool_call("rank", {"period": "1230"}, "c1")]),
            completion("Xiaomi has a share of 1230 in that ranking."),
        )
    )
    a = await ask(VAGUE_Q, store=store)
    assert "no data for period '1230'" in a.tool_calls[0].result["error"]
    assert "1230" in [r.text for r in a.ungrounded] and "1230" not in a.text
    assert a.mode == "offline"


async def test_an_empty_repair_is_said_to_be_empty(llm, store: Store):
    llm(sequence(completion("Xiaomi is #1 with 87.3%."), completion("")))
    a = await ask(RANK_Q, store=store)
    assert a.mode == "offline" and a.fallback == "empty"
    assert a.note == t("note_llm_empty", "en") != t("note_ungrounded", "en")
    assert "87.3%" in [r.text for r in a.ungrounded]


async def test_the_llms_own_calls_stay_on_record_after_a_failure(llm, store: Store):
    own = tool_call("company_profile", {"company": "xiaomi"}, "c1")
    llm(sequence(completion(tool_calls=[own]), lambda r: Reply("<html>bad gateway</html>")))
    a = await ask(VAGUE_Q, store=store)
    assert a.mode == "offline" and a.fallback == "llm_error"
    assert "company_profile" in [c.name for c in a.tool_calls]


@pytest.mark.parametrize(
    "garbage",
    [
        '<tool_call>{"name": "rank", "arguments": {}}</tool_call>',
        'functions.rank({"top": 3})',
        "Xiaomi &amp; friends &#39;win&#39;",
        "### Answer\n**Xiaomi** is great",
        "The weather in Paris is lovely in spring.",
    ],
)
async def test_an_answer_that_is_no_answer_is_replaced_by_the_offline_one(llm, store, garbage):
    llm(lambda r: completion(garbage))
    a = await ask(RANK_Q, store=store)
    assert a.mode == "offline" and a.fallback == "unusable"
    assert a.note == t("note_llm_unusable", "en") and "Xiaomi ranks #" in a.text


async def test_a_streaming_only_proxy_is_read_as_one_completion(llm, store: Store):
    server = llm(lambda r: streamed(honest(r)))
    a = await ask(VAGUE_Q, store=store)  # a tool call, then the answer, both streamed
    assert a.mode == "llm" and a.llm_requests == 2 and [c.name for c in a.tool_calls] == ["rank"]
    assert server.requests[1].messages[-2]["tool_calls"][0]["id"] == "call_rank"
    assert "Salesforce 85%" in a.text


async def test_a_reply_that_is_neither_json_nor_a_stream_is_an_llm_error(llm, store: Store):
    llm(lambda r: Reply("<html>bad gateway</html>", content_type="text/html"))
    a = await ask(RANK_Q, store=store)
    assert a.mode == "offline" and a.fallback == "llm_error"
