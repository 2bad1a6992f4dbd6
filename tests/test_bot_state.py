"""The bot's own state and plumbing: languages, quotas, subscriptions, update ids, the lock,
settings and flood limits."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from conftest import bot_rows, company
from telegram.error import BadRequest, NetworkError

from bot.alerts import outbox, subscriptions
from bot.settings import MissingToken, Settings, SettingsError, TelegramSettings
from bot.telegram import updates, users
from bot.telegram.flood import FloodLimiter
from bot.telegram.poller_lock import AlreadyRunning, PollerLock
from tools import botfile
from tools.store import Store

DEFAULT = "self_use_inference_share"


def test_language_choice_is_stored_per_user(store: Store):
    assert users.stored_lang(store, 1) is None
    users.set_lang(store, 1, "zh")
    users.set_lang(store, 2, "en")
    assert (users.stored_lang(store, 1), users.stored_lang(store, 2)) == ("zh", "en")


def test_llm_quota_counts_per_user_and_day(store: Store):
    day = dt.date(2026, 1, 1)
    assert [users.take_llm_question(store, 1, 2, day) for _ in range(3)] == [True, True, False]
    assert users.take_llm_question(store, 2, 2, day)  # another user
    assert users.take_llm_question(store, 1, 2, day + dt.timedelta(days=1))  # a new day
    assert users.forget_usage_before(store, day + dt.timedelta(days=1)) == 2


def test_subscriptions_are_keyed_by_chat_company_and_metric(store: Store):
    metric = "self_use_inference_share"
    assert subscriptions.subscribe(store, 10, None, metric, "en")
    assert not subscriptions.subscribe(store, 10, None, metric, "zh")  # same: language refreshed
    assert subscriptions.subscribe(store, 10, "xiaomi", metric, "zh")
    assert subscriptions.subscribe(store, -20, None, "margin_position", "en")
    assert [(s.company, s.lang) for s in subscriptions.of_chat(store, 10)] == [
        (None, "zh"),
        ("xiaomi", "zh"),
    ]
    assert [s.chat_id for s in subscriptions.watching(store)] == [-20, 10]
    assert [s.chat_id for s in subscriptions.watching(store, "xiaomi")] == [10]
    assert subscriptions.unsubscribe(store, 10, "xiaomi") == 1
    assert subscriptions.unsubscribe(store, 10, everything=True) == 1
    assert subscriptions.of_chat(store, 10) == []


def test_an_update_id_is_handled_once(store: Store):
    assert updates.first_delivery(store, 7)
    assert not updates.first_delivery(store, 7)
    assert updates.forget_before(store, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)) == 1
    assert updates.first_delivery(store, 7)


def test_one_bot_per_database(tmp_path):
    db = tmp_path / "x.db"
    with PollerLock(db), pytest.raises(AlreadyRunning, match="already running"):
        PollerLock(db).acquire()
    with PollerLock(db):  # released on exit (and by the kernel when a process dies)
        pass


def test_settings_from_the_environment():
    with pytest.raises(MissingToken):
        Settings.load({}).telegram()
    s = Settings.load(
        {
            "TELEGRAM_BOT_TOKEN": "1:abc",
            "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/bot",
            "ADMIN_USER_IDS": "42, 43",
            "LLM_DAILY_LIMIT": "5",
        }
    ).telegram()
    assert s.admin_ids == {42, 43} and s.llm_daily_limit == 5
    assert s.file_url == "http://127.0.0.1:8081/file/bot"
    assert "1:abc" not in repr(s)
    templated = TelegramSettings(token="t", base_url="http://h/bot{token}/x")
    assert templated.file_url == "http://h/file/bot{token}/x"
    with pytest.raises(SettingsError, match="ADMIN_USER_IDS"):
        Settings.load({"TELEGRAM_BOT_TOKEN": "1:a", "ADMIN_USER_IDS": "bob"})


async def _run(limiter: FloodLimiter, chat_id: int, callback) -> object:
    return await limiter.process_request(
        callback, (), {}, "sendMessage", {"chat_id": chat_id}, None
    )


async def test_a_private_chat_is_paced_after_its_burst():
    limiter = FloodLimiter(chat_burst=2, chat_per_second=10)

    async def ok() -> bool:
        return True

    start = time.monotonic()
    for _ in range(4):
        await _run(limiter, 5, ok)
    assert time.monotonic() - start >= 0.15  # two beyond the burst, 0.1 s apart
    start = time.monotonic()
    await _run(limiter, 6, ok)  # another chat has its own bucket
    assert time.monotonic() - start < 0.05


async def test_network_errors_are_retried_but_refusals_are_not(monkeypatch):
    monkeypatch.setattr("bot.telegram.flood.NETWORK_BACKOFF_S", (0.0,))
    limiter = FloodLimiter(max_retries=2)
    attempts: list[str] = []

    async def flaky() -> str:
        attempts.append("x")
        if len(attempts) < 3:
            raise NetworkError("Bad Gateway")
        return "sent"

    assert await _run(limiter, 1, flaky) == "sent" and len(attempts) == 3

    async def refused() -> None:
        attempts.append("refused")
        raise BadRequest("can't parse entities")

    with pytest.raises(BadRequest):
        await _run(limiter, 1, refused)
    assert attempts.count("refused") == 1


def test_the_state_an_older_build_kept_in_the_store_moves_to_the_bot_file(tmp_path, make_dataset):
    """Upgrading keeps each user's language, subscriptions, turns and open alerts; an import
    by the new build before the bot ever ran still tells the old subscribers."""
    path = tmp_path / "old.db"
    store = Store.open(path, seed=False)
    first = make_dataset(company("a", 0.6, spread=0.05), company("b", 0.4, 0.25, spread=0.05))
    store.import_dataset(first, author="cli", source_name="1", source_hash="1")
    with store.write() as db:  # the tables the build before wrote, in the store
        db.execute("INSERT INTO bot_users VALUES (7, 'zh', 'then')")
        db.execute("INSERT INTO subscriptions VALUES (7, '', ?, 'zh', 'then')", [DEFAULT])
        db.execute("INSERT INTO llm_usage VALUES (7, '2026-01-01', 3)")
        db.execute(
            "INSERT INTO conversation_turns (chat_id, created_at, question, lang, plan, answer)"
            " VALUES ('7', 'then', '排名', 'zh', '', '…')"
        )
        db.execute(
            "INSERT INTO alert_messages (chat_id, revision_id, lang, status, attempts, due_at,"
            " sent_at) VALUES (7, 1, 'zh', 'sent', 1, 1.0, 1000.0)"
        )
    assert not botfile.path_of(path).exists()
    second = make_dataset(company("b", 0.7, 0.05, spread=0.05))
    store.import_dataset(second, author="cli", source_name="2", source_hash="2")  # b passes a
    assert users.stored_lang(store, 7) == "zh"
    assert [(s.company, s.lang) for s in subscriptions.of_chat(store, 7)] == [(None, "zh")]
    assert not users.take_llm_question(store, 7, 3, dt.date(2026, 1, 1))  # the day's 3 used
    assert bot_rows(store, "SELECT question FROM conversation_turns") == [("排名",)]
    batch = outbox.claim(store, time.time())  # revision 2 was imported by this build
    assert batch is not None and (batch.chat_id, batch.revision, batch.lang) == (7, 2, "zh")
    assert bot_rows(store, "SELECT revision_id, status FROM alert_messages ORDER BY 1") == [
        (1, "sent"),
        (2, "sending"),
    ]
