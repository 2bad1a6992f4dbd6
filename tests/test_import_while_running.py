"""An import while the bot runs (issue 17): the bot answers as usual while another process
holds the store's write lock. Before, every update started by recording its id in the store,
waited on the import's lock, and past the busy timeout the user got an apology; /lang,
/subscribe, the 🔔 buttons, the LLM quota, conversation turns and the alerts outbox waited the
same way. They all live in the bot's own file now (tools.botfile)."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from pathlib import Path

from conftest import company
from fake_telegram import FakeTelegram, User
from pysqlite3 import dbapi2 as sqlite3
from telegram_harness import running_bot

from bot.agent import memory
from bot.agent.memory import Turn
from bot.alerts import outbox
from bot.alerts.subscriptions import of_chat, subscribe, unsubscribe
from bot.telegram import updates, users
from tools import botfile
from tools.store import Store

CLI = Path(sys.executable).parent / "inference-lens"
COMPANIES = 1_000  # seconds of write transaction, even on a fast machine
ASKS = 4  # /starts while the import holds the lock
SLACK_S = 2.0  # the bound: no more than this longer than usual
APOLOGY = "Sorry, something went wrong"


def big_file(tmp_path: Path, make_dataset, companies: int = COMPANIES) -> Path:
    many = [company(f"n{i:04d}", 0.1 + i % 800 / 1000, spread=0.02) for i in range(companies)]
    path = tmp_path / "many.json"
    path.write_text(make_dataset(*many).model_dump_json(exclude_none=True), encoding="utf-8")
    return path


def write_locked(db: Path) -> bool:
    """Whether another connection holds the store's write lock right now."""
    probe = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


async def answer_time(tg: FakeTelegram, user: User) -> float:
    """Seconds from /start to its answer, which must be the welcome (not an apology)."""
    asked = time.monotonic()
    tg.user_says(user, "/start")
    [reply] = await tg.wait_for(user.id, 1, timeout=30)
    assert reply.text.startswith("I'm Inference Lens"), reply.text
    return reply.at - asked


async def test_the_bot_answers_as_usual_during_a_cli_import(telegram, tmp_path, make_dataset):
    db = tmp_path / "lens.db"
    store = Store.open(db)
    subscribe(store, 1, None, "self_use_inference_share", "en")  # changes found in the import
    path = big_file(tmp_path, make_dataset)
    async with running_bot(telegram, store):
        usual = max([await answer_time(telegram, telegram.user(100 + i)) for i in range(3)])
        importing = subprocess.Popen(
            [str(CLI), "--db", str(db), "import", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        during: list[float] = []
        while importing.poll() is None and len(during) < ASKS:
            if await asyncio.to_thread(write_locked, db):
                during.append(await answer_time(telegram, telegram.user(200 + len(during))))
            else:
                await asyncio.sleep(0.05)
        _, errors = importing.communicate(timeout=600)
    assert importing.returncode == 0, errors
    assert during, "the import never held the write lock while /start was asked"
    assert max(during) <= usual + SLACK_S, (usual, during)


async def timed(tg: FakeTelegram, user: User, text: str) -> tuple[float, str]:
    """Seconds from a message to the bot's (last) answer, and that answer's text."""
    asked = time.monotonic()
    tg.user_says(user, text)
    [got] = await tg.wait_for(user.id, 1, timeout=30)
    assert APOLOGY not in got.text, got.text
    return got.at - asked, got.text


async def test_every_bot_write_goes_on_while_an_import_holds_the_lock(
    telegram, tmp_path, make_dataset
):
    """/lang, /subscribe, a 🔔 button and a free question while the store's write lock is
    held (as a long import holds it: the test holds it itself, for as long as it asks), and
    a real CLI import waiting on that lock: each answered as fast as usual, none an apology,
    and what they wrote is there after the import — the subscription made meanwhile gets the
    import's alert."""
    db = tmp_path / "lens.db"
    store = Store.open(db)
    path = big_file(tmp_path, make_dataset, companies=50)
    lang_user, subscriber, tapper, asker = (telegram.user(300 + i) for i in range(4))
    async with running_bot(telegram, store):
        usual = max(
            [(await timed(telegram, telegram.user(100 + i), "/start"))[0] for i in range(3)]
        )
        telegram.user_says(tapper, "/rank")
        shown = await telegram.wait_quiet(tapper.id, timeout=60)
        [rank_message] = [m for m in shown if "sub::0" in m.button_data()]
        locker = sqlite3.connect(db, isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")  # the import's long write transaction
        importing = subprocess.Popen(
            [str(CLI), "--db", str(db), "import", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            took = {
                "lang": await timed(telegram, lang_user, "/lang zh"),
                "subscribe": await timed(telegram, subscriber, "/subscribe"),
                "question": await timed(telegram, asker, "Rank the companies"),
            }
            tapped = time.monotonic()
            telegram.user_taps(tapper, rank_message, "sub::0")
            while not telegram.calls("answerCallbackQuery"):
                assert time.monotonic() - tapped < 30
                await asyncio.sleep(0.01)
            took["button"] = (time.monotonic() - tapped, "")
            assert importing.poll() is None and write_locked(db), "the lock was not held"
        finally:
            locker.execute("ROLLBACK")
            locker.close()
        _, errors = await asyncio.to_thread(importing.communicate, timeout=600)
        assert importing.returncode == 0, errors
        _, alert = await telegram.wait_for(subscriber.id, 2, timeout=60)  # after the reply
        assert "Ranking change · data revision 2" in alert.text
    assert max(t for t, _ in took.values()) <= usual + SLACK_S, (usual, took)
    assert took["lang"][1] == "好的,之后我用中文回答。"
    assert took["subscribe"][1].startswith("Subscribed: I'll tell you when the ranking")
    assert users.stored_lang(store, lang_user.id) == "zh"
    assert [s.chat_id for s in of_chat(store, tapper.id)] == [tapper.id]
    assert [t.question for t in await memory.recent(store, str(asker.id))] == ["Rank the companies"]


def locked(store: Store):
    """Another connection holding the store's write lock, as an import does."""
    locker = sqlite3.connect(store.path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    return contextlib.closing(locker)


async def test_no_state_of_the_bot_waits_on_the_store_lock(store: Store, make_dataset):
    """Each of the bot's writes, one by one, while the store is locked: none waits."""
    subscribe(store, 5, None, "self_use_inference_share", "en")
    with locked(store):
        started = time.monotonic()
        assert updates.first_delivery(store, 7) and not updates.first_delivery(store, 7)
        users.set_lang(store, 5, "zh")
        assert users.take_llm_question(store, 5, 3)
        assert subscribe(store, 6, "xiaomi", "self_use_inference_share", "en")
        assert unsubscribe(store, 6, "xiaomi") == 1
        await memory.remember(store, "5", Turn(question="q", lang="en", plan=None, answer="a"))
        assert outbox.fan_out(store) == 0 and outbox.claim_many(store, time.time(), 8) == []
        assert time.monotonic() - started < 1
    assert botfile.of(store).path == store.path.with_suffix(".bot.db")
    assert [s.lang for s in of_chat(store, 5)] == ["zh"]  # /lang speaks in the subscriptions
