"""Each Telegram update is handled once: its id is recorded before its handlers run.

Telegram delivers an update again when the bot did not confirm it (a crash between handling
and the next getUpdates, a webhook retry). Recording first means a crash mid-handling loses
that one update rather than answering twice.
"""

from __future__ import annotations

import datetime as dt

from tools.store import Store


def first_delivery(store: Store, update_id: int) -> bool:
    """Record an update id; False when it was recorded before (a redelivery)."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with store.write() as db:
        cursor = db.execute(
            "INSERT OR IGNORE INTO handled_updates (update_id, handled_at) VALUES (?, ?)",
            [update_id, now],
        )
        return cursor.rowcount == 1


def forget_before(store: Store, cutoff: dt.datetime) -> int:
    """Drop records older than `cutoff` (Telegram keeps undelivered updates for 24 hours)."""
    with store.write() as db:
        cursor = db.execute(
            "DELETE FROM handled_updates WHERE handled_at < ?",
            [cutoff.isoformat(timespec="seconds")],
        )
        return cursor.rowcount
