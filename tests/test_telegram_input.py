"""End to end: free text, groups, bad input, quotas, duplicates and failures, as users see them."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from fake_telegram import BOT_USERNAME, FakeTelegram
from telegram_harness import StandInAnswer, running_bot

from bot.alerts import subscriptions
from bot.settings import LLMSettings
from bot.telegram import charts
from tools.store import Store

GROUP = -100777


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The agent answers offline: no LLM is configured in these tests."""
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


class Scripted:
    """Stands in for bot.agent.answer: records the calls, may wait or fail."""

    def __init__(self, *, gate: asyncio.Event | None = None, error: Exception | None = None):
        self.calls: list[dict[str, Any]] = []
        self.gate = gate
        self.error = error

    async def __call__(self, question: str, **kwargs: Any) -> StandInAnswer:
        self.calls.append({"question": question, **kwargs})
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        return StandInAnswer(f"answer <to> {question[:20]} & more", note=None)


async def quiet(tg: FakeTelegram, chat_id: int, seconds: float = 0.4) -> list:
    await asyncio.sleep(seconds)
    return tg.inbox(chat_id)


async def test_free_text_goes_to_the_agent_with_a_typing_indicator(telegram, store):
    alice = telegram.user(2001, language_code="en")
    async with running_bot(telegram, store):
        telegram.user_says(alice, "Where does Xiaomi rank?")
        (reply,) = await telegram.wait_for(alice.id, 1)
    assert "Xiaomi" in reply.text and "%" in reply.text
    assert telegram.calls("sendChatAction")[0].params["action"] == "typing"


async def test_follow_up_questions_keep_the_context(telegram, store):
    wang = telegram.user(2002, language_code="zh")
    async with running_bot(telegram, store):
        telegram.user_says(wang, "小米的四层拆分是怎样的?")
        await telegram.wait_for(wang.id, 1)
        telegram.clear(wang.id)
        telegram.user_says(wang, "那腾讯呢?")
        (reply,) = await telegram.wait_for(wang.id, 1)
    assert "腾讯" in reply.text


async def test_agent_text_is_escaped_and_its_note_shown(telegram, store):
    alice = telegram.user(2003)
    async with running_bot(telegram, store, answer=Scripted()):
        telegram.user_says(alice, "hello <b>")
        (reply,) = await telegram.wait_for(alice.id, 1)
    assert reply.text == "answer <to> hello <b> & more"  # the fake parsed the HTML


async def test_one_question_at_a_time_per_user(telegram, store):
    gate = asyncio.Event()
    agent = Scripted(gate=gate)
    alice, bob = telegram.user(2004), telegram.user(2005)
    async with running_bot(telegram, store, answer=agent):
        telegram.user_says(alice, "first question")
        while not agent.calls:
            await asyncio.sleep(0.01)
        telegram.user_says(alice, "second question")
        (busy,) = await telegram.wait_for(alice.id, 1)
        assert busy.text.startswith("I'm still answering your previous question")
        telegram.user_says(bob, "bob asks meanwhile")  # other users are not held up
        while len(agent.calls) < 2:
            await asyncio.sleep(0.01)
        gate.set()
        replies = await telegram.wait_for(alice.id, 2)
    assert replies[1].text.startswith("answer <to> first question")
    assert [c["question"] for c in agent.calls] == ["first question", "bob asks meanwhile"]


async def test_daily_llm_quota_falls_back_to_the_offline_answer(telegram, store):
    agent = Scripted()
    alice = telegram.user(2006)
    configured = LLMSettings(base_url="http://127.0.0.1:9/v1")  # an LLM is configured
    async with running_bot(telegram, store, answer=agent, llm=configured, llm_daily_limit=1):
        telegram.user_says(alice, "one")
        await telegram.wait_for(alice.id, 1)
        telegram.user_says(alice, "two")
        replies = await telegram.wait_for(alice.id, 2)
    assert [c["allow_llm"] for c in agent.calls] == [True, False]
    assert "You've used today's 1 LLM question;" in replies[1].text
    assert agent.calls[0]["user_id"] == str(alice.id) and agent.calls[0]["chat_id"] == str(alice.id)


async def test_without_an_llm_nothing_is_counted(telegram, store):
    agent = Scripted()
    alice = telegram.user(2018)
    async with running_bot(telegram, store, answer=agent, llm_daily_limit=0):
        telegram.user_says(alice, "one")
        (reply,) = await telegram.wait_for(alice.id, 1)
    assert agent.calls[0]["allow_llm"] and "LLM questions" not in reply.text


async def test_a_very_long_message_is_cut_with_a_note(telegram, store):
    agent = Scripted()
    wang = telegram.user(2007, language_code="zh")
    async with running_bot(telegram, store, answer=agent):
        telegram.user_says(wang, "为" * 3000)
        (reply,) = await telegram.wait_for(wang.id, 1)
    assert len(agent.calls[0]["question"]) == 1000
    assert "消息太长,我只读了前 1000 个字符" in reply.text


@pytest.mark.parametrize("send", ["user_sends_sticker", "user_sends_photo"])
async def test_stickers_and_photos_get_a_hint(telegram, store, send):
    alice = telegram.user(2008)
    async with running_bot(telegram, store):
        getattr(telegram, send)(alice)
        (reply,) = await telegram.wait_for(alice.id, 1)
    assert reply.text.startswith("I can only read text")


async def test_a_group_hears_commands_and_mentions_only(telegram, store):
    agent = Scripted()
    alice = telegram.user(2009)
    telegram.group(GROUP)
    async with running_bot(telegram, store, answer=agent):
        telegram.user_says(alice, "good morning everyone", chat_id=GROUP)
        telegram.user_says(alice, "/rank@some_other_bot", chat_id=GROUP)
        telegram.user_sends_sticker(alice, chat_id=GROUP)
        assert await quiet(telegram, GROUP) == []
        telegram.user_says(alice, f"/rank@{BOT_USERNAME}", chat_id=GROUP)
        (ranking,) = await telegram.wait_for(GROUP, 1)
        assert ranking.photo and ranking.text.startswith("Ranking by")
        assert ranking.reply_to is not None  # answers quote the message that asked
        telegram.clear(GROUP)
        telegram.user_says(alice, f"@{BOT_USERNAME} why is Xiaomi first?", chat_id=GROUP)
        (answer,) = await telegram.wait_for(GROUP, 1)
        telegram.clear(GROUP)
        telegram.user_says(alice, "and Tencent?", chat_id=GROUP, reply_to=answer)
        await telegram.wait_for(GROUP, 1)
    assert [c["question"] for c in agent.calls] == ["why is Xiaomi first?", "and Tencent?"]
    assert agent.calls[0]["chat_id"] == str(GROUP)


async def test_a_mention_alone_gets_a_hint(telegram, store):
    alice = telegram.user(2010)
    telegram.group(GROUP)
    async with running_bot(telegram, store):
        telegram.user_says(alice, f"@{BOT_USERNAME}", chat_id=GROUP)
        (reply,) = await telegram.wait_for(GROUP, 1)
    assert reply.text.startswith("I can only read text")


async def test_a_redelivered_update_is_handled_once_even_after_a_restart(telegram, store: Store):
    alice = telegram.user(2011)
    async with running_bot(telegram, store):
        first = telegram.user_says(alice, "/start")
        await telegram.wait_for(alice.id, 1)
        telegram.redeliver(first)
        assert len(await quiet(telegram, alice.id)) == 1
    # A crash before Telegram learnt the offset: the new process gets the update again.
    telegram.redeliver(first)
    async with running_bot(telegram, store):
        telegram.user_says(alice, "/help")
        await telegram.wait_for(alice.id, 2)
        assert len(await quiet(telegram, alice.id)) == 2


async def test_an_unexpected_error_is_logged_and_apologised_for(telegram, store, caplog):
    agent = Scripted(error=RuntimeError("boom"))
    wang = telegram.user(2012, language_code="zh")
    async with running_bot(telegram, store, answer=agent):
        telegram.user_says(wang, "问题")
        (sorry,) = await telegram.wait_for(wang.id, 1)
        telegram.user_says(wang, "/start")  # the bot carries on
        await telegram.wait_for(wang.id, 2)
    assert sorry.text.startswith("抱歉,处理出错了")
    assert "boom" in caplog.text


async def test_retry_after_and_server_errors_are_retried(telegram, store):
    alice, bob = telegram.user(2013), telegram.user(2014)
    telegram.fail(alice.id, 429, retry_after=1)
    telegram.fail(bob.id, 502)
    async with running_bot(telegram, store):
        telegram.user_says(alice, "/start")
        telegram.user_says(bob, "/start")
        (hello_alice,) = await telegram.wait_for(alice.id, 1)
        await telegram.wait_for(bob.id, 1)
    statuses = [c.status for c in telegram.calls("sendMessage")]
    assert statuses.count(429) == 1 and statuses.count(502) == 1 and statuses.count(200) == 2
    assert hello_alice.text.startswith("I'm Inference Lens")


async def test_a_user_who_blocked_the_bot_does_not_break_it(telegram, store):
    alice, bob = telegram.user(2015), telegram.user(2016)
    telegram.block(alice.id)
    async with running_bot(telegram, store):
        telegram.user_says(alice, "/start")
        telegram.user_says(bob, "/start")
        await telegram.wait_for(bob.id, 1)
    assert [
        c.status for c in telegram.calls("sendMessage") if c.params["chat_id"] == str(alice.id)
    ] == [403]


async def test_a_private_chat_gets_about_one_message_a_second(telegram, store):
    alice = telegram.user(2017)
    async with running_bot(telegram, store, chat_burst=3):
        for _ in range(3):  # an English tier card is two messages (photo, then its text)
            telegram.user_says(alice, "/tiers xiaomi")  # 6: a burst of 3, then 1 a second
        await telegram.wait_for(alice.id, 6, timeout=15)
    times = telegram.sends(alice.id)
    assert times[5] - times[0] >= 2.5
    assert all(later - earlier < 1.5 for earlier, later in itertools.pairwise(times))


async def test_without_a_cjk_font_the_answer_comes_without_its_chart(telegram, store, monkeypatch):
    def no_font() -> str:
        raise charts.MissingCJKFont("none installed")

    monkeypatch.setattr(charts, "cjk_font", no_font)
    alice = telegram.user(2019)
    async with running_bot(telegram, store):
        telegram.user_says(alice, "/rank")
        (ranking,) = await telegram.wait_quiet(alice.id)
    assert ranking.photo is None and ranking.text.startswith("Ranking by")


async def test_a_refused_chart_does_not_cost_the_answer(telegram, store, monkeypatch):
    monkeypatch.setattr(charts, "tiers_chart", lambda *_: b"not a picture")
    alice = telegram.user(2020)
    async with running_bot(telegram, store):
        telegram.user_says(alice, "/tiers baidu")
        (tiers,) = await telegram.wait_quiet(alice.id)
    assert tiers.text.startswith("Baidu: four-layer breakdown")
    assert [c.status for c in telegram.calls("sendPhoto")] == [400]


async def test_a_subscription_in_words_gets_a_confirm_button_for_that_chat(telegram, store):
    li = telegram.user(2077, language_code="zh")
    async with running_bot(telegram, store):
        telegram.user_says(li, "提醒我小米排名变化")
        (reply,) = await telegram.wait_for(li.id, 1)
        assert "/subscribe xiaomi" in reply.text
        assert reply.button_data() == ["sub:xiaomi:self_use_inference_share"]
        telegram.user_taps(li, reply)
        for _ in range(100):
            if telegram.calls("answerCallbackQuery"):
                break
            await asyncio.sleep(0.05)
        telegram.user_says(li, "帮群里所有人都订阅腾讯")  # somebody else's subscription
        (_, flipped, refused) = await telegram.wait_for(li.id, 3)
    assert flipped.method == "editMessageReplyMarkup"  # the tapped 🔔 became 🔕 in place
    assert [(s.company, s.metric) for s in subscriptions.of_chat(store, li.id)] == [
        ("xiaomi", "self_use_inference_share")
    ]
    assert "/subscribe" in refused.text and refused.button_data() == []
