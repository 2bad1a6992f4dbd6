"""The alerts outbox on a real SQLite file (issue 5): one message per chat and revision,
claimed then settled; the per-chat gap; claims cut off by a crash; chats that unsubscribed,
went away or moved."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import bot_rows, company

from bot.alerts import outbox
from bot.alerts.message import render
from bot.alerts.subscriptions import of_chat, subscribe, unsubscribe
from tools import botfile
from tools.events import detect
from tools.migrations import MIGRATIONS
from tools.store import Store

DEFAULT = "self_use_inference_share"


@pytest.fixture
def changed(tmp_path: Path, make_dataset) -> Store:
    """Chat 1 follows the ranking, chat 2 company b, group -3 the ranking; then b passes a
    (four events: order a, order b, archetype b, metric b), and the outbox has seen it."""
    store = Store.open(tmp_path / "o.db", seed=False)
    first = make_dataset(company("a", 0.6, spread=0.05), company("b", 0.4, 0.25, spread=0.05))
    store.import_dataset(first, author="cli", source_name="1", source_hash="1")
    subscribe(store, 1, None, DEFAULT, "zh")
    subscribe(store, 2, "b", DEFAULT, "en")
    subscribe(store, -3, None, DEFAULT, "en")
    second = make_dataset(company("b", 0.7, 0.05, spread=0.05))
    store.import_dataset(second, author="cli", source_name="2", source_hash="2")
    assert outbox.fan_out(store) == 3  # as the bot's alerts job does when it next runs
    return store


def status(store: Store, chat_id: int) -> list[str]:
    rows = bot_rows(store, "SELECT status FROM alert_messages WHERE chat_id = ?", [chat_id])
    return sorted({s for (s,) in rows})


def test_a_claim_is_one_chat_and_revision_with_its_language(changed):
    now = time.time()
    first = outbox.claim(changed, now)
    assert first is not None and (first.chat_id, first.revision, first.lang) == (-3, 2, "en")
    assert len(first.events) == 4 and first.attempts == 1
    second = outbox.claim(changed, now)
    assert (second.chat_id, second.lang, len(second.events)) == (1, "zh", 4)
    third = outbox.claim(changed, now)
    assert (third.chat_id, len(third.events)) == (2, 3)  # b's events only
    assert outbox.claim(changed, now) is None
    assert status(changed, 1) == ["sending"]


def test_a_crash_between_claim_and_mark_sends_that_message_again(changed):
    batch = outbox.claim(changed, time.time())
    assert batch is not None
    # the process dies here; the next start releases what was in flight
    assert outbox.release_claims(changed) == 1
    again = outbox.claim(changed, time.time())
    assert (again.chat_id, again.attempts) == (batch.chat_id, 2)
    outbox.mark_sent(changed, again, 77, time.time())
    assert status(changed, batch.chat_id) == ["sent"] and outbox.release_claims(changed) == 0


def test_a_chat_waits_out_its_gap_even_across_restarts(changed, make_dataset):
    now = time.time()
    for _ in range(3):
        outbox.mark_sent(changed, outbox.claim(changed, now), 1, now)
    third = make_dataset(company("b", 0.4, 0.25, spread=0.05))  # b falls back
    changed.import_dataset(third, author="cli", source_name="3", source_hash="3")
    assert outbox.claim(changed, now + 0.5) is None  # every chat got a message 0.5 s ago
    private = outbox.claim(changed, now + outbox.PRIVATE_GAP_S)
    assert private is not None and private.chat_id == 1 and private.revision == 3
    assert outbox.claim(changed, now + outbox.PRIVATE_GAP_S).chat_id == 2
    assert outbox.claim(changed, now + outbox.PRIVATE_GAP_S) is None  # a group waits longer
    assert outbox.claim(changed, now + outbox.GROUP_GAP_S).chat_id == -3


def test_a_chat_that_unsubscribed_gets_nothing_more(changed):
    unsubscribe(changed, 1)
    claimed = [outbox.claim(changed, time.time()) for _ in range(3)]
    assert [b.chat_id for b in claimed if b] == [-3, 2]
    assert status(changed, 1) == ["dropped"]


def test_a_gone_chat_ends_its_subscriptions_and_rows(changed):
    batch = outbox.claim(changed, time.time())
    assert outbox.end_chat(changed, batch.chat_id, "Forbidden: bot was blocked by the user") == 1
    assert of_chat(changed, batch.chat_id) == [] and status(changed, batch.chat_id) == ["dead"]


def test_a_migrated_group_takes_its_rows_and_subscriptions_along(changed):
    subscribe(changed, -1003, None, DEFAULT, "en")  # the new id already follows the ranking
    batch = outbox.claim(changed, time.time())
    assert batch.chat_id == -3
    outbox.move_chat(changed, -3, -1003)
    assert [s.chat_id for s in of_chat(changed, -1003)] == [-1003] and of_chat(changed, -3) == []
    assert status(changed, -3) == [] and status(changed, -1003) == ["pending"]
    moved = outbox.claim(changed, time.time())
    assert (moved.chat_id, len(moved.events)) == (-1003, 4)


def test_transient_failures_come_back_when_due(changed):
    batch = outbox.claim(changed, time.time())
    outbox.retry_later(changed, batch, time.time() + 60, "502 Bad Gateway")
    assert {b.chat_id for b in (outbox.claim(changed, time.time()) for _ in range(3)) if b} == {
        1,
        2,
    }
    later = outbox.claim(changed, time.time() + 61)
    assert (later.chat_id, later.attempts) == (batch.chat_id, 2)


def test_an_import_of_many_companies_makes_one_message_per_chat(tmp_path, make_dataset):
    """The outbox grows with chats × revisions (issue 17): 60 newcomers, three chats."""
    store = Store.open(tmp_path / "many.db", seed=False)
    first = make_dataset(company("a", 0.6, spread=0.05), company("b", 0.4, 0.25, spread=0.05))
    store.import_dataset(first, author="cli", source_name="1", source_hash="1")
    for chat in (1, 2, 3):
        subscribe(store, chat, None, DEFAULT, "en")
    many = [company(f"n{i:02d}", 0.3 + i / 100, spread=0.01) for i in range(60)]
    store.import_dataset(make_dataset(*many), author="cli", source_name="2", source_hash="2")
    assert store.db.execute("SELECT count(*) FROM alert_events").fetchone() == (60,)
    outbox.fan_out(store)
    assert bot_rows(store, "SELECT count(*) FROM alert_messages") == [(3,)]
    batch = outbox.claim(store, time.time())
    assert batch is not None and batch.companies == 60
    # only the events the message shows are read: the ten best-ranked newcomers
    assert [e.company for e in batch.events] == sorted(f"n{i:02d}" for i in range(50, 60))
    text = render(batch.events, batch.lang, batch.companies)
    assert "<b>N59</b>" in text and "N49" not in text and "50 more companies" in text


def test_a_store_with_the_old_outbox_migrates(tmp_path, make_dataset, monkeypatch):
    """A store made before messages had their own rows: one row per (chat, event)."""
    path = tmp_path / "old.db"
    monkeypatch.setattr("tools.store.MIGRATIONS", MIGRATIONS[:6])
    old = Store.open(path, seed=False)
    old.revision_hooks = []  # this build's hook writes the new tables
    first = make_dataset(company("a", 0.6, spread=0.05), company("b", 0.4, 0.25, spread=0.05))
    old.import_dataset(first, author="cli", source_name="1", source_hash="1")
    second = make_dataset(company("b", 0.7, 0.05, spread=0.05))
    old.import_dataset(second, author="cli", source_name="2", source_hash="2")
    found = detect(old.universe(1), old.universe(2), 2, [DEFAULT])
    with old.write() as db:
        for e in found:
            db.execute(
                "INSERT INTO alert_events (id, revision_id, kind, company, metric, body)"
                " VALUES (?, 2, ?, ?, ?, ?)",
                [e.id, e.kind, e.company, e.metric, e.model_dump_json()],
            )
            for chat, status, sent_at in ((1, "pending", None), (2, "sent", 1000.0)):
                db.execute(
                    "INSERT INTO alert_outbox (chat_id, event_id, revision_id, lang, status,"
                    " attempts, due_at, sent_at) VALUES (?, ?, 2, 'zh', ?, 1, 5.0, ?)",
                    [chat, e.id, status, sent_at],
                )
    old.close()
    monkeypatch.undo()
    store = Store.open(path, seed=False)
    subscribe(store, 1, None, DEFAULT, "zh")
    rows = bot_rows(store, "SELECT chat_id, status, sent_at FROM alert_messages ORDER BY chat_id")
    assert rows == [(1, "pending", None), (2, "sent", 1000.0)]
    assert store.db.execute("SELECT count(*) FROM alert_outbox").fetchone() == (0,)
    batch = outbox.claim(store, time.time())
    assert batch is not None and batch.chat_id == 1 and len(batch.events) == len(found) == 4
    assert batch.events[0].new_rank is not None
    ranks = store.db.execute("SELECT new_rank FROM alert_events ORDER BY id").fetchall()
    assert ranks == [(e.new_rank,) for e in sorted(found, key=lambda e: e.id)]


def test_a_store_made_anew_beside_the_bot_file_still_gets_its_alerts(tmp_path, make_dataset):
    """The store replaced (deleted, imported again) while the bot's file stays: the new
    revisions start over at 1, and are fanned out all the same (subscriptions kept)."""
    path = tmp_path / "anew.db"
    store = Store.open(path, seed=False)
    first = make_dataset(company("a", 0.6, spread=0.05), company("b", 0.4, 0.25, spread=0.05))
    for n, data in enumerate(
        [first, make_dataset(company("c", 0.9)), make_dataset(company("d", 0.95))]
    ):
        store.import_dataset(data, author="cli", source_name=str(n), source_hash=str(n))
        if n == 0:
            subscribe(store, 1, None, DEFAULT, "en")
    assert outbox.fan_out(store) == 2  # revisions 2 and 3
    store.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    botfile._at.cache_clear()  # a new process: the old file's connection went with the old one
    store = Store.open(path, seed=False)
    store.import_dataset(first, author="cli", source_name="1", source_hash="1")
    store.import_dataset(
        make_dataset(company("b", 0.7, 0.05, spread=0.05)),
        author="cli",
        source_name="2",
        source_hash="2",
    )
    batch = outbox.claim(store, time.time())
    assert batch is not None and (batch.chat_id, batch.revision) == (1, 2)
