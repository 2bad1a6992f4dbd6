"""Claims bound to their subject (issue 11): the gate reads figures with the company they are
written about, checks them against that company's tool values, and computes derived figures.
The benchmark corpus (bench/data/claims.yaml) is replayed through the fake OpenAI server."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from fake_openai import Request, completion, tool_call
from test_agent_cli import cli
from test_agent_llm import ask, llm, no_key_in_logs  # noqa: F401  (fixtures)

from bot.agent import grounding
from bot.agent.registry import ToolContext, call
from tools.store import Store

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))
import claims_bench  # noqa: E402
from claims_corpus import load, perturb  # noqa: E402

CORPUS = load()


def evidence(store: Store, *calls: tuple[str, dict[str, Any]], question: str = "") -> Any:
    ctx = ToolContext(store, store.universe(), "en")
    outcomes = [call(name, args, ctx) for name, args in calls]
    return grounding.Evidence.of(
        [o.result() for o in outcomes],
        [o.arguments for o in outcomes],
        question,
        grounding.names_of(store.universe()),
    )


def rejected(text: str, ev: Any) -> list[tuple[str, str]]:
    return [(r.text, r.subject) for r in grounding.check(text, ev).rejected]


CAPEX = ("compare", {"companies": ["microsoft", "oracle"], "metric": "ai_capex_usd"})
RANK = ("rank", {})


def test_a_figure_of_another_company_is_refused(store: Store):
    ev = evidence(store, CAPEX)
    assert rejected("Microsoft is #3 with $55bn.", ev) == [("$55bn", "microsoft")]
    assert rejected("Microsoft is #3 with $141bn; Oracle has $55bn.", ev) == []


def test_ranks_are_checked_in_every_form(store: Store):
    ev = evidence(store, RANK)
    assert rejected("腾讯以45%的自用推理占比位列第9名。", ev) == [("第9名", "tencent")]
    assert rejected("腾讯以45%的自用推理占比位列第12名。", ev) == []
    assert rejected("小米排第五。", ev) == [("第五", "xiaomi")]
    assert rejected("Xiaomi comes in fourth, Tencent is #12.", ev) == []
    assert rejected("Xiaomi comes in third.", ev) == [("third", "xiaomi")]


def test_derived_gap_and_ratio_pass_and_wrong_ones_do_not(store: Store):
    ev = evidence(store, CAPEX)
    honest = "Microsoft spends about $86bn more than Oracle, roughly 2.6 times as much."
    assert rejected(honest, ev) == []
    assert rejected("Microsoft spends $60bn more than Oracle.", ev) == [("$60bn", "microsoft")]
    shares = evidence(store, ("compare", {"companies": ["xiaomi", "bytedance"]}))
    assert rejected("Xiaomi leads ByteDance by 7 percentage points.", shares) == []
    assert rejected("Xiaomi leads ByteDance by 2 percentage points.", shares) == [
        ("2 percentage points", "bytedance")
    ]


def test_archetypes_are_the_subjects(store: Store):
    ev = evidence(store, ("tier_breakdown", {"company": "xiaomi"}))
    assert rejected("Xiaomi counts as a supplier.", ev) == [("supplier", "xiaomi")]
    assert rejected("Xiaomi is a self-user, not a supplier.", ev) == []


def test_chinese_numerals_fractions_and_rounding(store: Store):
    ev = evidence(store, RANK)
    assert rejected("小米约七成的算力用于自用推理,即百分之七十二。", ev) == []
    assert rejected("小米约三成的算力用于自用推理。", ev) == [("三成", "xiaomi")]
    assert rejected("Xiaomi: about 70%.", ev) == []
    assert rejected("Xiaomi: 70%.", ev) == [("70%", "xiaomi")]


def test_years_must_be_periods_of_the_data_or_the_question(store: Store):
    ev = evidence(store, RANK)
    assert rejected("In 2026 Xiaomi ranks #4.", ev) == []
    # A rank said of a period the data does not have is not backed by another period's rank.
    assert rejected("In 2019 Xiaomi ranks #4.", ev) == [("2019", "xiaomi"), ("#4", "xiaomi")]


def test_compare_view_carries_gap_and_ratio(store: Store):
    ctx = ToolContext(store, store.universe(), "en")
    [pair] = call(*CAPEX, ctx).result()["pairs"]
    assert (pair["gap"], pair["ratio"]) == (86e9, 2.564)


def test_benchmark_meets_its_floors():
    """The corpus: honest answers kept (goal 95%), lies caught (see the README for per kind)."""
    for report in claims_bench.run().values():  # templated and hand-written corpora
        assert report["honest_kept"] >= 0.95
        assert report["lies_caught"] >= 0.99
        assert min(report["caught_by_kind"].values()) >= 0.95
        assert report["gate_ms_median"] <= 20


REPLAYED = [a for a in CORPUS["answers"] if a["id"].endswith("-0")][::6]


def _scripted(entry: dict[str, Any], text: str):
    def script(request: Request):
        if request.is_repair or request.tool_results():
            return completion(text)
        calls = [tool_call(c["tool"], c["args"], f"call_{i}") for i, c in enumerate(entry["calls"])]
        return completion(None, calls)

    return script


@pytest.mark.parametrize("entry", REPLAYED, ids=lambda e: e["id"])
async def test_corpus_answer_is_delivered_whole(entry, llm, store: Store):  # noqa: F811
    llm(_scripted(entry, entry["answer"]))
    a = await ask(entry["question"], store=store, lang=entry["lang"])
    assert a.mode == "llm" and a.ungrounded == [] and a.text == entry["answer"]


@pytest.mark.parametrize("entry", REPLAYED[:4], ids=lambda e: e["id"])
async def test_corpus_lie_is_repaired_in_the_users_language(entry, llm, store: Store):  # noqa: F811
    lie = next(p for p in perturb(entry, CORPUS["names"]) if p.kind.startswith(("rank", "share")))
    server = llm(_scripted(entry, lie.text))
    a = await ask(entry["question"], store=store, lang=entry["lang"])
    assert a.ungrounded and a.mode == "offline" and lie.text != a.text
    repair = server.requests[-1].messages[-1]["content"]
    assert a.ungrounded[0].text in repair
    assert ("工具" in repair) == (entry["lang"] == "zh")


def test_ask_json_lists_rejected_claims_with_their_subject(tmp_path):
    from fake_openai import FakeOpenAI

    def script(request: Request):
        if request.tool_results():
            return completion("腾讯以45%的自用推理占比位列第9名。")
        return completion(None, [tool_call("rank", {}, "call_rank")])

    with FakeOpenAI(script) as server:
        done = cli(
            tmp_path, "ask", "腾讯排第几?", "--json",
            OPENAI_BASE_URL=server.url, OPENAI_API_KEY="sk-test", OPENAI_MODEL="m",
        )  # fmt: skip
    data = json.loads(done.stdout)
    assert {"text": "第9名", "subject": "tencent", "reason": "wrong_rank"} in data["ungrounded"]
    assert data["fallback"] == "grounding" and data["note"]
