"""The alerts outbox on a real SQLite file (issue 5): one message per chat and revision,
claimed then settled; the per-chat gap; claims cut off by a crash; chats that unsubscribed,
went away or moved."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import company

from bot.alerts import outbox
from bot.alerts.subscriptions import of_chat, subscribe, unsubscribe
from tools.store import Store

DEFAULT = "self_use_inference_share"


@pytest.fixture
def changed(tmp_path: Path, make_dataset) -> Store:
    """Chat 1 follows the ranking, chat 2 company b, group -3 the ranking; then b passes a
    (four events: order a, order b, archetype b, metric b)."""
    store = Store.open(tmp_path / "o.db", seed=False)
    first = make_dataset(company("a", 0.6, spread=0.05), company("b", 0.4, 0.25, spread=0.05))
    store.import_dataset(first, author="cli", source_name="1", source_hash="1")
    subscribe(store, 1, None, DEFAULT, "zh")
    subscribe(store, 2, "b", DEFAULT, "en")
    subscribe(store, -3, None, DEFAULT, "en")
    second = make_dataset(company("b", 0.7, 0.05, spread=0.05))
    store.import_dataset(second, author="cli", source_name="2", source_hash="2")
    return store


def status(store: Store, chat_id: int) -> list[str]:
    rows = store.db.execute("SELECT status FROM alert_outbox WHERE chat_id = ?", [chat_id])
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
    assert outbox.release_claims(changed) == 4
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
    assert outbox.end_chat(changed, batch.chat_id, "Forbidden: bot was blocked by the user") == 4
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
