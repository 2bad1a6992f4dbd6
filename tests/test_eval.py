"""`inference-lens eval` as a separate process against the fake OpenAI-compatible server."""

from __future__ import annotations

import json
import typing
from pathlib import Path

import yaml
from fake_openai import FakeOpenAI, Reply, Request, completion, error, honest, tool_call
from test_agent_cli import cli

from bot.agent.answers import Fallback
from bot.text.evaluation import FALLBACK_WORDS

ROOT = Path(__file__).resolve().parent.parent
EN = ["Where does Xiaomi rank on self-use inference?", "Break down Baidu's AI business by layer"]
ZH = ["腾讯和阿里巴巴谁的自用推理占比更高?", "美团的AI资本开支是多少?"]


def questions(tmp_path: Path, entries: list[object]) -> str:
    path = tmp_path / "questions.yaml"
    path.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    return str(path)


def evaluate(tmp_path: Path, server: FakeOpenAI, *argv: str) -> dict:
    done = cli(tmp_path, "eval", "--json", *argv, OPENAI_BASE_URL=server.url, OPENAI_MODEL="m-1")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def counted(reply: Reply, prompt: int, completion_tokens: int) -> Reply:
    assert isinstance(reply.body, dict)
    reply.body["usage"] = {"prompt_tokens": prompt, "completion_tokens": completion_tokens}
    return reply


def test_without_an_llm_eval_says_what_to_set_and_exits_2(tmp_path):
    for lang, words in (("en", "OPENAI_BASE_URL"), ("zh", "需要 LLM")):
        done = cli(tmp_path, "--lang", lang, "eval")
        assert done.returncode == 2 and done.stdout == ""
        assert words in done.stderr and "Traceback" not in done.stderr


def test_an_honest_model_answers_every_question_in_zh_and_en(tmp_path):
    def script(request: Request) -> Reply:
        return counted(honest(request), prompt=100, completion_tokens=10)

    with FakeOpenAI(script) as server:
        data = evaluate(
            tmp_path, server, "--questions", questions(tmp_path, [{"q": q} for q in [*EN, *ZH]])
        )
    assert data["model"] == "m-1" and data["base_url"] == server.url
    assert data["questions"] == data["sent_to_llm"] == data["answered_by_llm"] == 4
    assert data["llm_share"] == 1.0 and data["fallbacks"] == {} and data["claims_rejected"] == 0
    # The planner's results are prefetched: one request each, and no call of the LLM's own.
    assert data["llm_requests"] == len(server.requests) == 4
    assert data["tool_calls"] == {"calls": 0, "judged": 0, "right_tool": 0, "right_args": 0}
    assert (data["prompt_tokens"], data["completion_tokens"]) == (400, 40)
    assert 0 < data["latency"]["p50"] <= data["latency"]["p95"]
    assert [r["question"] for r in data["results"]] == [*EN, *ZH]
    assert [r["planned"][0]["name"] for r in data["results"]] == [
        "rank",
        "tier_breakdown",
        "compare",
        "company_profile",
    ]


def test_a_server_that_reports_no_usage_counts_no_tokens(tmp_path):
    def script(request: Request) -> Reply:
        reply = honest(request)
        assert isinstance(reply.body, dict)
        if "Xiaomi" in request.question():
            del reply.body["usage"]
        else:
            reply.body["usage"] = {"prompt_tokens": None, "completion_tokens": 3}
        return reply

    with FakeOpenAI(script) as server:
        data = evaluate(
            tmp_path, server, "--questions", questions(tmp_path, [{"q": q} for q in EN])
        )
    assert data["answered_by_llm"] == 2
    assert (data["prompt_tokens"], data["completion_tokens"]) == (0, 3)


def test_the_llms_own_tool_calls_are_judged_against_the_planners_plan(tmp_path):
    """The model makes one call of its own before answering: the planned ranking (the
    metric spelled out, as the plan has it by default), the planned comparison (companies by
    other names, in another order), and for a breakdown the ranking again: the wrong tool."""
    mine = {
        EN[0]: ("rank", {"metric": "self_use_inference_share"}),
        ZH[0]: ("compare", {"companies": ["Alibaba", "腾讯"]}),
        EN[1]: ("rank", {}),
    }

    def script(request: Request) -> Reply:
        calls = [c for m in request.messages for c in m.get("tool_calls") or []]
        if not any(c["id"] == "mine" for c in calls):
            name, args = mine[request.question()]
            return completion(tool_calls=[tool_call(name, args, "mine")])
        return honest(request)

    path = questions(tmp_path, [{"q": q} for q in mine])
    with FakeOpenAI(script) as server:
        data = evaluate(tmp_path, server, "--questions", path)
        env = {"OPENAI_BASE_URL": server.url, "OPENAI_MODEL": "m-1"}
        table = cli(tmp_path, "--lang", "en", "eval", "--questions", path, **env).stdout
    assert data["tool_calls"] == {"calls": 3, "judged": 3, "right_tool": 2, "right_args": 2}
    rank, compare, breakdown = data["results"]
    assert rank["llm_calls"] == [{"name": "rank", "arguments": mine[EN[0]][1]}]
    assert (rank["right_args"], compare["right_args"]) == (1, 1)
    assert (breakdown["right_tool"], breakdown["right_args"]) == (0, 0)
    assert data["llm_requests"] == 6  # a call, then the answer, for each question
    assert "2/3 (67%) (right tool 2/3)" in table


def test_fallbacks_are_counted_by_reason_and_rejected_claims_listed(tmp_path):
    def script(request: Request) -> Reply:
        if "Baidu" in request.question():
            return error(400, "bad request")
        if "美团" in request.question():
            return completion("美团排第1,占比99%。")  # no tool result says so
        return honest(request)

    with FakeOpenAI(script) as server:
        data = evaluate(
            tmp_path, server, "--questions", questions(tmp_path, [{"q": q} for q in [*EN, *ZH]])
        )
    assert data["fallbacks"] == {"llm_error": 1, "grounding": 1}
    assert data["answered_by_llm"] == 2 and data["llm_share"] == 0.5
    meituan = data["results"][3]
    assert meituan["mode"] == "offline" and meituan["fallback"] == "grounding"
    assert data["claims_rejected"] == len(meituan["rejected"]) >= 1
    assert meituan["llm_requests"] == 2  # the answer and its one repair


def test_chains_are_asked_in_one_chat_and_limit_counts_questions(tmp_path):
    chain = {"chain": [{"q": "小米排第几"}, {"q": "那腾讯呢?"}, {"q": "它的分层呢"}]}
    with FakeOpenAI(honest) as server:
        data = evaluate(
            tmp_path,
            server,
            "--questions",
            questions(tmp_path, [chain, {"q": EN[0]}]),
            "--limit",
            "2",
        )
    assert [r["question"] for r in data["results"]] == ["小米排第几", "那腾讯呢?"]
    # The follow-up is asked in the chain's chat: the LLM sees the first turn, the planner
    # continues its ranking.
    asked = [m["content"] for m in server.requests[-1].messages if m["role"] == "user"]
    assert asked == ["小米排第几", "那腾讯呢?"]
    assert data["results"][1]["planned"][0]["name"] == "rank"


def test_the_table_is_said_in_the_chosen_language(tmp_path):
    path = questions(tmp_path, [{"q": EN[0]}, {"q": ZH[1]}])
    with FakeOpenAI(honest) as server:
        env = {"OPENAI_BASE_URL": server.url, "OPENAI_MODEL": "m-1"}
        en = cli(tmp_path, "--lang", "en", "eval", "--questions", path, **env)
        zh = cli(tmp_path, "--lang", "zh", "eval", "--questions", path, **env)
    assert en.returncode == zh.returncode == 0, en.stderr + zh.stderr
    assert en.stdout.startswith("Evaluation of m-1: 2 questions")
    assert "answered by the LLM" in en.stdout and "2/2 (100%)" in en.stdout
    assert zh.stdout.startswith("m-1 评测:2 个问题") and "LLM 作答" in zh.stdout
    assert "美团的AI资本开支是多少?" in zh.stdout and "No fallbacks." in en.stdout


def test_a_file_that_is_not_a_question_set_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- nope: 1\n", encoding="utf-8")
    with FakeOpenAI(honest) as server:
        env = {"OPENAI_BASE_URL": server.url}
        for argv in (
            ["--questions", str(bad)],
            ["--questions", str(tmp_path / "missing.yaml")],
            ["--limit", "0"],
        ):
            done = cli(tmp_path, "eval", *argv, **env)
            assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert server.requests == []


def test_every_fallback_reason_has_words_in_the_report():
    assert set(typing.get_args(Fallback)) <= set(FALLBACK_WORDS)


def test_the_packaged_default_set_is_the_public_seed_set():
    shipped = yaml.safe_load(
        (ROOT / "bot" / "cli" / "eval_questions.yaml").read_text(encoding="utf-8")
    )
    seed = yaml.safe_load((ROOT / "tests" / "data" / "questions.yaml").read_text(encoding="utf-8"))
    assert shipped == seed
