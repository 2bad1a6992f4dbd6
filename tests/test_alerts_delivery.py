"""Alert delivery end to end (issue 5): the real bot against the fake Telegram server with
flood limits, blocked users, 5xx faults and a migrated group. Every subscriber gets exactly
one alert per change, in their language; gone chats are dropped and never tried again."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest
from conftest import bot_rows, company
from fake_telegram import FakeTelegram
from pysqlite3 import dbapi2 as sqlite3
from telegram_harness import running_bot

from bot.alerts.subscriptions import of_chat, subscribe
from tools.store import Store

DEFAULT = "self_use_inference_share"


@pytest.fixture
def ranked(tmp_path: Path, make_dataset) -> Store:
    """a above b above c; nobody subscribed yet."""
    store = Store.open(tmp_path / "alerts.db", seed=False)
    first = make_dataset(
        company("a", 0.6, spread=0.05),
        company("b", 0.4, 0.25, spread=0.05),
        company("c", 0.2, spread=0.05),
    )
    store.import_dataset(first, author="cli", source_name="1", source_hash="1")
    return store


async def b_overtakes_a(store: Store, make_dataset, name: str = "2") -> None:
    """An import (as the admin upload makes it) in which b passes a and becomes a self-user."""
    data = make_dataset(company("b", 0.7, 0.05, spread=0.05))
    await asyncio.to_thread(
        store.import_dataset, data, author="cli", source_name=name, source_hash=name
    )


def statuses(store: Store) -> dict[str, int]:
    return dict(bot_rows(store, "SELECT status, count(*) FROM alert_messages GROUP BY status"))


def attempts(tg: FakeTelegram, chat_id: int) -> list[int]:
    return [c.status for c in tg.calls("sendMessage") if int(c.params["chat_id"]) == chat_id]


async def test_subscribers_hear_once_in_their_language(telegram, ranked, make_dataset):
    alice = telegram.user(2001, language_code="zh")
    bob = telegram.user(2002, language_code="en")
    carol = telegram.user(2003, language_code="en")
    async with running_bot(telegram, ranked):
        for user, command in (
            (alice, "/subscribe"),
            (bob, "/subscribe b"),
            (carol, "/subscribe c"),
        ):
            telegram.user_says(user, command)
            await telegram.wait_for(user.id)
        telegram.clear()
        await b_overtakes_a(ranked, make_dataset)
        [zh] = await telegram.wait_quiet(alice.id, quiet=2.5)
        [en] = await telegram.wait_quiet(bob.id, quiet=0.5)
    assert telegram.inbox(carol.id) == []  # c did not move
    assert zh.text.startswith("🔔 排名变化 · 数据修订 2")
    assert "b公司 · 2025" in zh.text and "a公司 · 2025" in zh.text  # the whole ranking
    assert "第 2 → 1 名(共 3 家),40% → 70%" in zh.text
    assert "现排在a公司之前:把握 100%(这个顺序很稳健)" in zh.text
    assert "原因:自用推理 40% → 70%;对外算力租赁 25% → 5%;自用训练 35% → 25%" in zh.text
    assert "B · 2025" in en.text and "A · 2025" not in en.text  # bob follows b only
    assert "Rank by self-use inference share: 2 → 1 of 3, 40% → 70%" in en.text
    assert "Archetype: " in en.text and "Now above A: P = 100% (a robust order)" in en.text
    assert "Why: own inference 40% → 70%; external IaaS 25% → 5%; own training" in en.text
    assert statuses(ranked) == {"sent": 2}  # one message each: alice 4 events, bob 3


async def test_flood_limits_blocked_users_and_server_errors(telegram, ranked, make_dataset):
    telegram.limit_rate(overall=30, per_chat=1.0)
    chats = [telegram.user(3000 + i).id for i in range(60)]
    blocked, flaky, waited, unknown = chats[5], chats[6], chats[7], 999_999
    for chat in [*chats, unknown]:
        subscribe(ranked, chat, None, DEFAULT, "en")
    telegram.block(blocked)
    telegram.fail(flaky, 500, times=2)
    telegram.fail(waited, 429, times=1, retry_after=1)
    async with running_bot(telegram, ranked):
        await b_overtakes_a(ranked, make_dataset)
        live = [c for c in chats if c != blocked]
        for chat in live:
            await telegram.wait_for(chat, 1, timeout=30)
        await b_overtakes_a_back(ranked, make_dataset)  # a second change, a second alert
        for chat in live:
            await telegram.wait_for(chat, 2, timeout=30)
        await asyncio.sleep(2.5)  # anything more would come within one poll
    for chat in live:
        first, second = telegram.inbox(chat)
        assert "data revision 2" in first.text and "data revision 3" in second.text
        assert second.at - first.at >= 1.0  # Telegram's pace for one chat
    assert telegram.inbox(blocked) == [] and attempts(telegram, blocked) == [403]
    assert attempts(telegram, flaky)[:3] == [500, 500, 200]
    assert attempts(telegram, waited)[:2] == [429, 200]
    floods = [c for c in telegram.calls("sendMessage") if c.status == 429]
    assert len(floods) == 1  # the injected one: the pace never tripped the flood limit
    assert of_chat(ranked, blocked) == [] and of_chat(ranked, unknown) == []
    assert statuses(ranked) == {"sent": 2 * len(live), "dead": 2}  # the blocked, the unknown


async def test_replies_and_alerts_share_the_bots_budget(telegram, ranked, make_dataset):
    # Paced apart (alerts 29 a second, replies 28.5), a fan-out and 40 people asking at once
    # went past Telegram's 30 a second together: 21-23 answers of 429 here.
    telegram.limit_rate(overall=30, per_chat=1.0)
    followers = [telegram.user(4000 + i).id for i in range(60)]
    for chat in followers:
        subscribe(ranked, chat, None, DEFAULT, "en")
    askers = [telegram.user(5000 + i) for i in range(40)]
    async with running_bot(telegram, ranked):
        await b_overtakes_a(ranked, make_dataset)
        await telegram.wait_for(followers[0], 1, timeout=30)  # the fan-out is under way
        for user in askers:
            telegram.user_says(user, "/help")
        for chat in [*followers, *(u.id for u in askers)]:
            await telegram.wait_for(chat, 1, timeout=30)
    # A send counts in the pace until a second after its answer: however late a request
    # arrives on a busy event loop, no second of arrivals passes the limit.
    assert [c.params.get("chat_id") for c in telegram.calls() if c.status == 429] == []


async def b_overtakes_a_back(store: Store, make_dataset) -> None:
    data = make_dataset(company("b", 0.4, 0.25, spread=0.05))
    await asyncio.to_thread(
        store.import_dataset, data, author="cli", source_name="3", source_hash="3"
    )


async def test_a_migrated_group_is_followed(telegram, ranked, make_dataset):
    group = telegram.group(-500)
    subscribe(ranked, group, None, DEFAULT, "zh")
    telegram.migrate(group, -1_000_500)
    async with running_bot(telegram, ranked):
        await b_overtakes_a(ranked, make_dataset)
        [alert] = await telegram.wait_quiet(-1_000_500, quiet=2.5)
    assert "数据修订 2" in alert.text
    assert [s.chat_id for s in of_chat(ranked, -1_000_500)] == [-1_000_500]
    assert of_chat(ranked, group) == [] and statuses(ranked) == {"sent": 1}


async def test_an_alert_too_long_for_one_message_is_cut_to_fit(telegram, tmp_path, make_dataset):
    store = Store.open(tmp_path / "many.db", seed=False)
    many = [company(f"co{i:03d}", 0.30 + i / 1000, spread=0.01) for i in range(120)]
    store.import_dataset(make_dataset(*many), author="cli", source_name="1", source_hash="1")
    reader = telegram.user(4001)
    subscribe(store, reader.id, None, DEFAULT, "en")
    # every company moves: the order reverses
    moved = [company(f"co{i:03d}", 0.45 - i / 1000, spread=0.01) for i in range(120)]
    async with running_bot(telegram, store):
        await asyncio.to_thread(
            store.import_dataset,
            make_dataset(*moved),
            author="cli",
            source_name="2",
            source_hash="2",
        )
        [alert] = await telegram.wait_quiet(reader.id, quiet=2.5)
    assert "…and 110 more companies changed" in alert.text


async def test_the_alert_footer_button_unsubscribes(telegram, ranked, make_dataset):
    """Issue 13: under each alert a 🔕 per subscription it comes from; a tap ends that one,
    says so in the notice, and the button turns into a 🔔."""
    alice, bob = telegram.user(6001), telegram.user(6002, language_code="zh")
    subscribe(ranked, alice.id, None, DEFAULT, "en")
    subscribe(ranked, bob.id, "b", DEFAULT, "zh")
    async with running_bot(telegram, ranked):
        await b_overtakes_a(ranked, make_dataset)
        [to_alice] = await telegram.wait_for(alice.id)
        [to_bob] = await telegram.wait_for(bob.id)
        assert to_alice.button_data() == ["unsub:"] and to_bob.button_data() == ["unsub:b"]
        assert to_alice.buttons[0][0]["text"] == "🔕 Stop these alerts"
        assert to_bob.buttons[0][0]["text"] == "🔕 b公司"
        assert all(len(d.encode()) <= 64 for d in to_alice.button_data())
        telegram.user_taps(alice, to_alice)
        telegram.user_taps(bob, to_bob)
        for sent in (to_alice, to_bob):
            while telegram.current(sent).button_data() == sent.button_data():
                await asyncio.sleep(0.01)
        assert telegram.current(to_alice).button_data() == ["sub:"]  # the undo
        assert of_chat(ranked, alice.id) == [] and of_chat(ranked, bob.id) == []
        telegram.clear()
        await b_overtakes_a_back(ranked, make_dataset)
        await asyncio.sleep(2.5)  # an alert would come within one poll
    assert telegram.inbox(alice.id) == [] and telegram.inbox(bob.id) == []
    answered = telegram.calls("answerCallbackQuery")
    assert len(answered) == 2 and all(c.params.get("text") for c in answered)


async def test_alerts_go_out_while_an_import_holds_the_lock(telegram, ranked, make_dataset, caplog):
    """An import holding the store's write lock (past the busy timeout, 10 s) does not hold up
    delivery (issue 17): the outbox is in the bot's own file, and the events are read from the
    store's last commit. Before, claims waited on the lock and were put off to later ticks."""
    reader = telegram.user(7001)
    subscribe(ranked, reader.id, None, DEFAULT, "en")
    await b_overtakes_a(ranked, make_dataset)  # pending before the bot starts
    locker = sqlite3.connect(ranked.path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        async with running_bot(telegram, ranked):
            started = time.monotonic()
            await telegram.wait_for(reader.id, 1, timeout=30)
            assert time.monotonic() - started < 5  # one poll (2 s), not a busy timeout
            await asyncio.sleep(2.5)  # a repeat would come within one poll
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert len(telegram.inbox(reader.id)) == 1
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
