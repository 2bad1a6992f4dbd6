"""What one request may ask is bounded in the tools, so the CLI, the LLM's tools and
Telegram share the limits: companies per comparison, overrides per what-if."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fake_telegram import FakeTelegram
from telegram.ext import Application
from telegram_harness import running_bot

from bot.agent.registry import ToolContext, call
from bot.cli.main import main
from tools import ranking
from tools.dataio import MAX_FILE_BYTES
from tools.errors import BadArgument
from tools.ranking import MAX_COMPARE
from tools.store import Store
from tools.whatif import MAX_OVERRIDES, parse_overrides, whatif


def ids(store: Store, n: int) -> list[str]:
    return sorted(store.universe().companies)[:n]


def test_compare_refuses_more_than_the_limit(store):
    with pytest.raises(BadArgument, match=f"at most {MAX_COMPARE} companies"):
        ranking.compare(store.universe(), ids(store, MAX_COMPARE + 1))
    assert len(ranking.compare(store.universe(), ids(store, MAX_COMPARE)).rows) == MAX_COMPARE


def test_cli_compare_is_bounded_before_names_are_looked_up(store, capsys):
    names = [*ids(store, MAX_COMPARE), "no-such-company"]
    assert main(["compare", *names]) == 2
    err = capsys.readouterr().err
    assert f"compare at most {MAX_COMPARE} companies at a time (got 11)" in err


def test_whatif_refuses_more_than_the_limit(store, capsys):
    pairs = [f"own_inference=0.{i % 9}" for i in range(MAX_OVERRIDES + 1)]
    with pytest.raises(BadArgument, match=f"at most {MAX_OVERRIDES} overrides"):
        parse_overrides(pairs)
    many = {f"key{i}": 0.1 for i in range(MAX_OVERRIDES + 1)}
    with pytest.raises(BadArgument, match=f"at most {MAX_OVERRIDES} overrides"):
        whatif(store.universe(), "xiaomi", many)
    assert main(["whatif", "xiaomi", *pairs]) == 2
    assert f"at most {MAX_OVERRIDES} overrides (got 13)" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_whatif_refuses_non_finite_values(store, capsys, value):
    assert main(["whatif", "xiaomi", f"ai_capex={value}"]) == 2
    assert "ai_capex must be a finite number" in capsys.readouterr().err


@pytest.fixture
def ctx(store: Store) -> ToolContext:
    return ToolContext(store, store.universe(), "en", chat_id="c", user_id="u")


def test_llm_what_if_gets_the_limit_as_an_error_result(ctx):
    overrides = {f"key{i}": 0.1 for i in range(MAX_OVERRIDES + 1)}
    outcome = call("what_if", {"company": "xiaomi", "overrides": overrides}, ctx)
    assert not outcome.ok
    assert f"at most {MAX_OVERRIDES} overrides" in outcome.result()["error"]
    nan = call("what_if", '{"company": "xiaomi", "overrides": {"ai_capex": NaN}}', ctx)
    assert not nan.ok and "finite number" in nan.result()["error"]
    json.loads(nan.content())  # still valid JSON for the LLM


def test_llm_compare_stays_within_the_limit(ctx, store):
    """The LLM's compare schema allows fewer companies than the tool's limit."""
    outcome = call("compare", {"companies": ids(store, MAX_COMPARE + 1)}, ctx)
    assert not outcome.ok and "companies" in outcome.result()["error"]


@pytest.fixture
async def bot(telegram: FakeTelegram, store: Store) -> AsyncIterator[Application]:
    async with running_bot(telegram, store) as app:
        yield app


async def test_telegram_gets_the_limits(telegram, bot, store):
    user = telegram.user(1001, "Alice", language_code="en")
    telegram.user_says(user, "/compare " + " ".join(ids(store, MAX_COMPARE + 1)))
    (reply,) = await telegram.wait_for(user.id, 1)
    assert f"compare at most {MAX_COMPARE} companies" in reply.text
    telegram.clear(user.id)
    pairs = " ".join(f"own_inference=0.{i % 9}" for i in range(MAX_OVERRIDES + 1))
    telegram.user_says(user, f"/whatif xiaomi {pairs}")
    (reply,) = await telegram.wait_for(user.id, 1)
    assert f"at most {MAX_OVERRIDES} overrides" in reply.text


def test_readme_states_the_limits_in_force():
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = text[text.index("Behaviour under load and bad input") :]
    assert f"at most {MAX_COMPARE} companies per compare" in section
    assert f"{MAX_OVERRIDES} overrides per what-if" in section
    assert f"{MAX_FILE_BYTES // 2**20} MB" in section
