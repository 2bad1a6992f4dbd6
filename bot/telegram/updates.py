"""Each Telegram update is handled once: its id is recorded before its handlers run.

Telegram delivers an update again when the bot did not confirm it (a crash between handling
and the next getUpdates, a webhook retry). Recording first means a crash mid-handling loses
that one update rather than answering twice.

The ids are kept in the bot's file beside the store (tools.botfile), not in the store: an
import holds the store's write lock for as long as it writes, so recording the id there made
every update wait on the import, and past the busy timeout the user got an apology (issue
17). A file rather than memory with a deferred write, because the ids recorded just before a
crash are the very ones Telegram redelivers after it. (The store's handled_updates table,
and the `lens.updates.db` of the build before, are no longer used: ids matter for a day.)
"""

from __future__ import annotations

import datetime as dt
import logging

from tools import botfile
from tools.errors import StoreError
from tools.store import Store

log = logging.getLogger(__name__)


def first_delivery(store: Store, update_id: int) -> bool:
    """Record an update id; False when it was recorded before (a redelivery). When the file
    cannot be written (a read-only folder, a full disk) the update is handled: answering a
    redelivery twice is better than answering nobody."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    try:
        with botfile.of(store).transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO handled_updates (update_id, handled_at) VALUES (?, ?)",
                [update_id, now],
            )
            return cursor.rowcount == 1
    except StoreError as exc:
        log.warning("could not record update %s (%s); handling it anyway", update_id, exc)
        return True


def forget_before(store: Store, cutoff: dt.datetime) -> int:
    """Drop records older than `cutoff` (Telegram keeps undelivered updates for 24 hours)."""
    with botfile.of(store).transaction() as db:
        cursor = db.execute(
            "DELETE FROM handled_updates WHERE handled_at < ?",
            [cutoff.isoformat(timespec="seconds")],
        )
        return cursor.rowcount
