"""The alerts outbox: one row per message, a (chat, revision), claimed and settled in turn.

The import writes a revision's events into the store, with the revision; the outbox lives in
the bot's file beside it (tools.botfile), with the subscriptions, so sending never waits on an
import's write lock. When it is next asked, the outbox adds a pending row for every chat that
follows some event of each revision it has not seen (`fan_out`): the rows grow with chats ×
revisions, however many companies changed. Messages are claimed (status 'sending') a few at a
time in one transaction, their events read by the chats' subscriptions at that moment; each
is sent, then settled (sent, retry later, dead, failed) in a transaction of its own before
the next goes out. A crash between a send and its settling leaves it 'sending';
`release_claims` puts it back at the next start, so it is sent again: at most that one message
repeats, and none is lost (the others claimed with it were not sent yet).

A row ends 'sent'; 'dead' when its chat is gone (blocked the bot, deactivated, not found);
'failed' when Telegram refused the message itself; 'dropped' when the chat unsubscribed
before it went out.

Plain synchronous functions over the store; the bot calls them through `asyncio.to_thread`.
"""

from __future__ import annotations

import time

from pydantic import BaseModel
from pysqlite3 import dbapi2 as sqlite3

from bot.alerts.message import MAX_COMPANIES
from bot.text.i18n import Lang
from tools import botfile
from tools.events import AlertEvent
from tools.store import Store

PRIVATE_GAP_S = 1.0  # Telegram: about one message a second in a private chat
GROUP_GAP_S = 3.0  # and 20 a minute in a group (negative chat ids)
OPEN = "('pending', 'sending')"
UNRANKED = 10**9  # sorts after every rank: a company that left the ranking
FOLLOWED_KEPT = 32  # (revision, subscriptions) kept: a few per revision in practice
# A chat follows an event when it subscribed to the whole ranking ('') or to the event's
# company, by the event's metric; an archetype change concerns every metric (subscriptions
# `s`, events `e`).
FOLLOWS = "s.company IN ('', e.company) AND (e.kind = 'archetype' OR s.metric = e.metric)"
# The events of revision :revision that chat :chat follows (by its subscriptions now).
FOLLOWED = (
    "e.revision_id = :revision AND EXISTS"
    f" (SELECT 1 FROM subscriptions s WHERE s.chat_id = :chat AND {FOLLOWS})"
)


class Batch(BaseModel):
    """One message to send: a chat's events of one revision (those of the first
    `message.MAX_COMPANIES` companies; `companies` counts them all)."""

    id: int
    chat_id: int
    revision: int
    lang: Lang
    attempts: int
    events: list[AlertEvent]
    companies: int
    scopes: list[str]  # the subscriptions it comes from: '' the whole ranking, or companies


def release_claims(store: Store) -> int:
    """Put back messages left 'sending' (the caller knows none is in flight: one bot per
    database, one delivery run at a time); returns how many."""
    with botfile.of(store).transaction() as db:
        return db.execute(
            "UPDATE alert_messages SET status = 'pending' WHERE status = 'sending'"
        ).rowcount


def has_due(store: Store, now: float) -> bool:
    with botfile.of(store).reading() as db:
        row = db.execute(
            "SELECT 1 FROM alert_messages WHERE status = 'pending' AND due_at <= ? LIMIT 1",
            [now],
        ).fetchone()
    return row is not None


def fan_out(store: Store) -> int:
    """Add the messages of revisions the outbox has not seen (an import since); returns how
    many were added."""
    with botfile.of(store).transaction() as db:
        return _fan_out(db, time.time())


def _fan_out(db: sqlite3.Connection, now: float) -> int:
    """One pending message per chat that follows some event of each new revision (which
    events it carries is looked up when it is sent). The store is read at one snapshot, so
    the revisions marked seen are exactly those whose events were read."""
    (seen,) = db.execute("SELECT revision FROM alert_progress").fetchone()
    (latest,) = db.execute("SELECT coalesce(max(id), 0) FROM store.revisions").fetchone()
    if latest < seen:  # the store was made anew beside this file: its revisions start over
        db.execute("DELETE FROM alert_messages")  # the old store's, by revision ids now reused
        seen = 0
    if latest <= seen:
        return 0  # the usual case: two index reads
    revisions = db.execute(
        "SELECT DISTINCT revision_id FROM store.alert_events WHERE revision_id > ?"
        " ORDER BY revision_id",
        [seen],
    ).fetchall()
    added = 0
    for (revision,) in revisions:
        added += db.execute(
            f"""INSERT OR IGNORE INTO alert_messages
                (chat_id, revision_id, lang, status, attempts, due_at)
            SELECT s.chat_id, :revision, min(s.lang), 'pending', 0, :now
            FROM subscriptions s WHERE EXISTS (SELECT 1 FROM store.alert_events e
                WHERE e.revision_id = :revision AND {FOLLOWS})
            GROUP BY s.chat_id ORDER BY s.chat_id""",
            {"now": now, "revision": revision},
        ).rowcount
    db.execute("UPDATE alert_progress SET revision = ?", [latest])
    return added


def claim(store: Store, now: float) -> Batch | None:
    """The next message due, marked 'sending'; None when nothing is due."""
    return next(iter(claim_many(store, now, 1)), None)


def claim_many(store: Store, now: float, most: int) -> list[Batch]:
    """Up to `most` messages due, to different chats, marked 'sending' in one transaction
    (first adding the messages of revisions imported since).

    A chat that got a message less than its gap ago is skipped: its messages are put off
    until the gap has passed (the last send time is in the table, so this holds across
    restarts); so is a chat's second message, until the first is sent. A message none of
    whose events the chat still follows is dropped.
    """
    path = str(botfile.of(store).path)
    claimed: list[Batch] = []
    with botfile.of(store).transaction() as db:
        _fan_out(db, now)
        while len(claimed) < most and (due := _next_due(db, now)) is not None:
            message_id, chat_id, revision, lang, attempts = due
            ready = _ready_at(db, chat_id, now, {b.chat_id for b in claimed})
            if ready > now:
                db.execute(
                    "UPDATE alert_messages SET due_at = ? WHERE chat_id = ? AND status = 'pending'"
                    " AND due_at < ?",
                    [ready, chat_id, ready],
                )
                continue
            batch = _contents(db, path, message_id, chat_id, revision, lang, attempts + 1)
            if batch is None:
                db.execute(
                    "UPDATE alert_messages SET status = 'dropped', error = 'unsubscribed' WHERE id = ?",
                    [message_id],
                )
                continue
            db.execute(
                "UPDATE alert_messages SET status = 'sending', attempts = ? WHERE id = ?",
                [batch.attempts, message_id],
            )
            claimed.append(batch)
    return claimed


def _next_due(db: sqlite3.Connection, now: float) -> tuple[int, int, int, Lang, int] | None:
    """The oldest pending message that is due: an index seek on (status, due_at, id)."""
    return db.execute(
        "SELECT id, chat_id, revision_id, lang, attempts FROM alert_messages"
        " WHERE status = 'pending' AND due_at <= ? ORDER BY due_at, id LIMIT 1",
        [now],
    ).fetchone()


def _contents(
    db: sqlite3.Connection,
    path: str,
    message_id: int,
    chat_id: int,
    revision: int,
    lang: Lang,
    attempts: int,
) -> Batch | None:
    """The message as it goes out now; None when the chat follows none of its events."""
    followed = _followed(db, path, chat_id, revision)
    if followed is None:
        return None
    return Batch(
        id=message_id,
        chat_id=chat_id,
        revision=revision,
        lang=lang,
        attempts=attempts,
        events=followed.events,  # shared, not copied: nothing changes an event
        companies=followed.companies,
        scopes=followed.scopes,
    )


class _Followed(BaseModel):
    events: list[AlertEvent]
    companies: int
    scopes: list[str]


def _followed(db: sqlite3.Connection, path: str, chat_id: int, revision: int) -> _Followed | None:
    """What the chat follows of the revision, as the message shows it: the events of the
    best-ranked companies (a company ranks by its best new rank), how many companies in all,
    and the subscriptions they come from.

    The same for every chat with the same subscriptions, and a revision's events never change,
    so it is kept by (file, revision, subscriptions): 200 chats following the ranking after an
    import of 5,000 companies make one scan of its 15,000 events (~15-40 ms), not 200.
    """
    follows = tuple(
        db.execute(
            "SELECT company, metric FROM subscriptions WHERE chat_id = ? ORDER BY 1, 2",
            [chat_id],
        ).fetchall()
    )
    key = (path, revision, follows)
    if key not in _FOLLOWED:
        if len(_FOLLOWED) >= FOLLOWED_KEPT:
            _FOLLOWED.clear()  # old revisions' messages are not asked for again
        _FOLLOWED[key] = _read_followed(db, {"revision": revision, "chat": chat_id})
    return _FOLLOWED[key]


def _read_followed(db: sqlite3.Connection, keys: dict[str, int]) -> _Followed | None:
    ranked = db.execute(
        f"SELECT e.company FROM store.alert_events e WHERE {FOLLOWED}"
        " GROUP BY e.company ORDER BY min(coalesce(e.new_rank, :unranked)), e.company",
        {**keys, "unranked": UNRANKED},
    )
    companies = [c for (c,) in ranked]
    if not companies:
        return None
    shown = {f"c{i}": c for i, c in enumerate(companies[:MAX_COMPANIES])}
    bodies = db.execute(
        f"SELECT e.body FROM store.alert_events e WHERE {FOLLOWED}"
        f" AND e.company IN ({', '.join(':' + k for k in shown)}) ORDER BY e.id",
        {**keys, **shown},
    )
    scopes = db.execute(
        "SELECT DISTINCT s.company FROM subscriptions s WHERE s.chat_id = :chat AND EXISTS"
        f" (SELECT 1 FROM store.alert_events e WHERE e.revision_id = :revision AND {FOLLOWS})"
        " ORDER BY s.company",
        keys,
    )
    return _Followed(
        events=[AlertEvent.model_validate_json(b) for (b,) in bodies],
        companies=len(companies),
        scopes=[c for (c,) in scopes],
    )


_FOLLOWED: dict[tuple[str, int, tuple[tuple[str, str], ...]], _Followed | None] = {}


def _ready_at(db: sqlite3.Connection, chat_id: int, now: float, claimed: set[int]) -> float:
    """When the chat may have its next message: its gap after the last one sent, or after
    now when one is claimed already (it goes first)."""
    gap = PRIVATE_GAP_S if chat_id > 0 else GROUP_GAP_S
    if chat_id in claimed:
        return now + gap
    (last,) = db.execute(
        "SELECT max(sent_at) FROM alert_messages WHERE chat_id = ?", [chat_id]
    ).fetchone()
    return (last or 0.0) + gap


def mark_sent(store: Store, batch: Batch, message_id: int, now: float) -> None:
    _settle(store, batch, "status = 'sent', sent_at = ?, message_id = ?", [now, message_id])


def retry_later(store: Store, batch: Batch, due_at: float, error: str) -> None:
    _settle(store, batch, "status = 'pending', due_at = ?, error = ?", [due_at, error])


def mark_failed(store: Store, batch: Batch, error: str) -> None:
    """Telegram refused the message itself (not the chat): sending it again would not help."""
    _settle(store, batch, "status = 'failed', error = ?", [error])


def _settle(store: Store, batch: Batch, assignments: str, values: list[object]) -> None:
    with botfile.of(store).transaction() as db:
        db.execute(
            f"UPDATE alert_messages SET {assignments} WHERE id = ? AND status = 'sending'",
            [*values, batch.id],
        )


def end_chat(store: Store, chat_id: int, error: str) -> int:
    """The chat is gone (blocked the bot, deactivated, not found): its subscriptions end and
    its open rows are dead, so it is never tried again; returns how many rows died."""
    with botfile.of(store).transaction() as db:
        db.execute("DELETE FROM subscriptions WHERE chat_id = ?", [chat_id])
        return db.execute(
            f"UPDATE alert_messages SET status = 'dead', error = ? WHERE chat_id = ?"
            f" AND status IN {OPEN}",
            [error, chat_id],
        ).rowcount


def move_chat(store: Store, old: int, new: int) -> None:
    """A group became a supergroup with a new id: its subscriptions and open rows follow
    (those the new id already has stay single), and its claimed rows are due again."""
    with botfile.of(store).transaction() as db:
        db.execute("UPDATE OR IGNORE subscriptions SET chat_id = ? WHERE chat_id = ?", [new, old])
        db.execute("DELETE FROM subscriptions WHERE chat_id = ?", [old])
        db.execute(
            "UPDATE OR IGNORE alert_messages SET chat_id = ?, status = 'pending'"
            f" WHERE chat_id = ? AND status IN {OPEN}",
            [new, old],
        )
        db.execute(
            "UPDATE alert_messages SET status = 'dead', error = 'migrated: duplicate'"
            f" WHERE chat_id = ? AND status IN {OPEN}",
            [old],
        )


def prune(store: Store, before: float) -> int:
    """Forget settled rows older than `before` (their events stay, as the change log)."""
    with botfile.of(store).transaction() as db:
        return db.execute(
            f"DELETE FROM alert_messages WHERE status NOT IN {OPEN}"
            " AND coalesce(sent_at, due_at) < ?",
            [before],
        ).rowcount
