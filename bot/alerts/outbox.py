"""The alerts outbox: rows to send, claimed and settled one message at a time.

A message is every pending row of one (chat, revision). It is claimed (status 'sending') in
one transaction, sent, then settled (sent, retry later, dead, failed) in another. A crash
between the two leaves it 'sending'; `release_claims` puts it back at the next start, so it
is sent again: at most that one message repeats, and none is lost. Every write takes the
lock up front (Store.write: BEGIN IMMEDIATE), as the CLI may be importing meanwhile.

A row ends 'sent'; 'dead' when its chat is gone (blocked the bot, deactivated, not found);
'failed' when Telegram refused the message itself; 'dropped' when the chat unsubscribed
before it went out.

Plain synchronous functions over the store; the bot calls them through `asyncio.to_thread`.
"""

from __future__ import annotations

import sqlite_utils
from pydantic import BaseModel

from bot.text.i18n import Lang
from tools.events import FOLLOWS, AlertEvent
from tools.store import Store

PRIVATE_GAP_S = 1.0  # Telegram: about one message a second in a private chat
GROUP_GAP_S = 3.0  # and 20 a minute in a group (negative chat ids)
OPEN = "('pending', 'sending')"


class Batch(BaseModel):
    """One message to send: a chat's pending events of one revision."""

    chat_id: int
    revision: int
    lang: Lang
    attempts: int
    events: list[AlertEvent]


def release_claims(store: Store) -> int:
    """Put back messages left 'sending' (the caller knows none is in flight: one bot per
    database, one delivery run at a time); returns how many rows."""
    if not store.db.execute("SELECT 1 FROM alert_outbox WHERE status = 'sending'").fetchone():
        return 0  # the usual case, without taking the write lock
    with store.write() as db:
        return db.execute(
            "UPDATE alert_outbox SET status = 'pending' WHERE status = 'sending'"
        ).rowcount


def has_due(store: Store, now: float) -> bool:
    row = store.db.execute(
        "SELECT 1 FROM alert_outbox WHERE status = 'pending' AND due_at <= ? LIMIT 1", [now]
    ).fetchone()
    return row is not None


def claim(store: Store, now: float) -> Batch | None:
    """The next message due, marked 'sending'; None when nothing is due.

    A chat that got a message less than its gap ago is skipped: its rows are put off until
    the gap has passed (the last send time is in the table, so this holds across restarts).
    """
    with store.write() as db:
        while (due := _next_due(db, now)) is not None:
            chat_id, revision = due
            ready = _ready_at(db, chat_id)
            if ready > now:
                db.execute(
                    "UPDATE alert_outbox SET due_at = ? WHERE chat_id = ? AND status = 'pending'"
                    " AND due_at < ?",
                    [ready, chat_id, ready],
                )
                continue
            _drop_unfollowed(db, chat_id, revision)
            rows = db.execute(
                "SELECT o.lang, o.attempts, e.body FROM alert_outbox o"
                " JOIN alert_events e ON e.id = o.event_id WHERE o.chat_id = ?"
                " AND o.revision_id = ? AND o.status = 'pending' ORDER BY o.id",
                [chat_id, revision],
            ).fetchall()
            if rows:
                db.execute(
                    "UPDATE alert_outbox SET status = 'sending', attempts = attempts + 1"
                    " WHERE chat_id = ? AND revision_id = ? AND status = 'pending'",
                    [chat_id, revision],
                )
                return Batch(
                    chat_id=chat_id,
                    revision=revision,
                    lang=rows[0][0],
                    attempts=max(r[1] for r in rows) + 1,
                    events=[AlertEvent.model_validate_json(r[2]) for r in rows],
                )
    return None


def _next_due(db: sqlite_utils.Database, now: float) -> tuple[int, int] | None:
    """(chat, revision) of the oldest pending row that is due."""
    return db.execute(
        "SELECT chat_id, revision_id FROM alert_outbox WHERE status = 'pending'"
        " AND due_at <= ? ORDER BY due_at, id LIMIT 1",
        [now],
    ).fetchone()


def _drop_unfollowed(db: sqlite_utils.Database, chat_id: int, revision: int) -> None:
    """Rows of events the chat no longer follows (it unsubscribed since) are not sent."""
    db.execute(
        "UPDATE alert_outbox SET status = 'dropped', error = 'unsubscribed'"
        " WHERE chat_id = ? AND revision_id = ? AND status = 'pending' AND NOT EXISTS ("
        f" SELECT 1 FROM alert_events e JOIN subscriptions s ON {FOLLOWS}"
        " WHERE e.id = alert_outbox.event_id AND s.chat_id = alert_outbox.chat_id)",
        [chat_id, revision],
    )


def _ready_at(db: sqlite_utils.Database, chat_id: int) -> float:
    (last,) = db.execute(
        "SELECT max(sent_at) FROM alert_outbox WHERE chat_id = ?", [chat_id]
    ).fetchone()
    gap = PRIVATE_GAP_S if chat_id > 0 else GROUP_GAP_S
    return (last or 0.0) + gap


def mark_sent(store: Store, batch: Batch, message_id: int, now: float) -> None:
    _settle(store, batch, "status = 'sent', sent_at = ?, message_id = ?", [now, message_id])


def retry_later(store: Store, batch: Batch, due_at: float, error: str) -> None:
    _settle(store, batch, "status = 'pending', due_at = ?, error = ?", [due_at, error])


def mark_failed(store: Store, batch: Batch, error: str) -> None:
    """Telegram refused the message itself (not the chat): sending it again would not help."""
    _settle(store, batch, "status = 'failed', error = ?", [error])


def _settle(store: Store, batch: Batch, assignments: str, values: list[object]) -> None:
    with store.write() as db:
        db.execute(
            f"UPDATE alert_outbox SET {assignments}"
            " WHERE chat_id = ? AND revision_id = ? AND status = 'sending'",
            [*values, batch.chat_id, batch.revision],
        )


def end_chat(store: Store, chat_id: int, error: str) -> int:
    """The chat is gone (blocked the bot, deactivated, not found): its subscriptions end and
    its open rows are dead, so it is never tried again; returns how many rows died."""
    with store.write() as db:
        db.execute("DELETE FROM subscriptions WHERE chat_id = ?", [chat_id])
        return db.execute(
            f"UPDATE alert_outbox SET status = 'dead', error = ? WHERE chat_id = ?"
            f" AND status IN {OPEN}",
            [error, chat_id],
        ).rowcount


def move_chat(store: Store, old: int, new: int) -> None:
    """A group became a supergroup with a new id: its subscriptions and open rows follow
    (those the new id already has stay single), and its claimed rows are due again."""
    with store.write() as db:
        db.execute("UPDATE OR IGNORE subscriptions SET chat_id = ? WHERE chat_id = ?", [new, old])
        db.execute("DELETE FROM subscriptions WHERE chat_id = ?", [old])
        db.execute(
            "UPDATE OR IGNORE alert_outbox SET chat_id = ?, status = 'pending'"
            f" WHERE chat_id = ? AND status IN {OPEN}",
            [new, old],
        )
        db.execute(
            "UPDATE alert_outbox SET status = 'dead', error = 'migrated: duplicate'"
            f" WHERE chat_id = ? AND status IN {OPEN}",
            [old],
        )


def prune(store: Store, before: float) -> int:
    """Forget settled rows older than `before` (their events stay, as the change log)."""
    with store.write() as db:
        return db.execute(
            f"DELETE FROM alert_outbox WHERE status NOT IN {OPEN}"
            " AND coalesce(sent_at, due_at) < ?",
            [before],
        ).rowcount
