"""The agent without an LLM: the offline planner's answers, languages, and conversation memory
kept in SQLite (issue 3)."""

from __future__ import annotations

import re

import pytest
from conftest import bot_rows

from bot.agent.answers import Answer
from bot.agent.loop import answer
from bot.settings import LLMSettings, Settings, SettingsError
from tools.store import Store

OFFLINE = LLMSettings()  # no key, no endpoint: the offline planner answers


@pytest.fixture(autouse=True)
def no_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


async def test_offline_answer_contract(store: Store):
    a = await answer("Where does Xiaomi rank on self-use inference?", store=store, settings=OFFLINE)
    assert isinstance(a, Answer)
    assert (a.mode, a.llm_requests, a.ungrounded, a.note) == ("offline", 0, [], None)
    assert [c.name for c in a.tool_calls] == ["rank"] and a.tool_calls[0].result["rows"]
    # the rank itself moves as companies are added to the shipped data
    assert re.match(r"Xiaomi ranks #\d+ of \d+", a.text), a.text
    assert "<" not in a.text  # plain text, no HTML


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("阿里算是卖水的还是用水的?", "阿里巴巴"),
        ("如果阿里的对外算力占比降到20%,它会排第几?", "20%"),
        ("什么是边缘推理?", "边缘推理"),
        ("你能做什么?", "/rank"),
    ],
)
async def test_chinese_questions_get_chinese_answers(store: Store, question, expected):
    a = await answer(question, store=store, settings=OFFLINE)
    assert expected in a.text and a.mode == "offline"


async def test_language_can_be_forced(store: Store):
    a = await answer("阿里算是卖水的还是用水的?", store=store, settings=OFFLINE, lang="en")
    assert "Alibaba" in a.text and "Archetype" in a.text


async def test_what_if_selling_half_the_inference(store: Store):
    a = await answer(
        "What if ByteDance sold half of its inference compute?", store=store, settings=OFFLINE
    )
    assert a.text.startswith("If ByteDance") and "sold 50% of its own-use inference" in a.text
    assert a.tool_calls[0].arguments["sell_own_inference"] == 0.5


async def test_unknown_company_gets_the_list_of_companies(store: Store):
    a = await answer("Break down Foobar Corp's business by layer", store=store, settings=OFFLINE)
    assert a.tool_calls == [] and "not in my data" in a.text and "Xiaomi" in a.text


async def test_follow_ups_survive_a_restart(isolated_db):
    first = Store.open(isolated_db)
    await answer("小米的自用推理占比排第几?", store=first, settings=OFFLINE, chat_id="42")
    first.close()
    again = Store.open(isolated_db)  # a new process would open the file afresh
    a = await answer("那腾讯呢?", store=again, settings=OFFLINE, chat_id="42")
    assert a.text.startswith("腾讯按自用推理占比排第")
    other = await answer(
        "那腾讯呢?", store=again, settings=OFFLINE, chat_id="7"
    )  # another chat has no history
    assert not other.text.startswith("腾讯按自用推理占比排第")


async def test_memory_is_bounded_per_chat(store: Store):
    for i in range(9):
        await answer(f"tell me about xiaomi {i}", store=store, settings=OFFLINE, chat_id="a")
    await answer("what can you do?", store=store, settings=OFFLINE, chat_id="b")
    counts = dict(bot_rows(store, "SELECT chat_id, count(*) FROM conversation_turns GROUP BY 1"))
    assert counts == {"a": 6, "b": 1}


def test_settings_hide_the_key():
    settings = Settings.load({"OPENAI_API_KEY": "sk-secret-123", "OPENAI_MODEL": "m"}).llm
    assert settings.enabled and settings.key() == "sk-secret-123"
    assert "sk-secret-123" not in repr(settings) and "sk-secret-123" not in str(
        settings.model_dump()
    )
    assert not Settings.load({}).llm.enabled
    assert Settings.load({"OPENAI_BASE_URL": "http://127.0.0.1:1/v1"}).llm.enabled
    with pytest.raises(SettingsError, match="INFERENCE_LENS_LLM_BUDGET"):
        Settings.load({"INFERENCE_LENS_LLM_BUDGET": "601"})  # capped at 10 minutes
