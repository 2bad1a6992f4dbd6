"""Each Telegram update is handled once: its id is recorded before its handlers run.

Telegram delivers an update again when the bot did not confirm it (a crash between handling
and the next getUpdates, a webhook retry). Recording first means a crash mid-handling loses
that one update rather than answering twice.

The ids are kept in a small SQLite file of their own beside the store (`lens.updates.db`
for `lens.db`), not in the store: SQLite has one writer per file, and an import holds the
store's write lock for as long as it writes, so recording the id there made every update
wait on the import, and past the busy timeout the user got an apology (issue 17). Only the
bot writes this file (one bot per database: poller_lock), so recording never waits. A file
rather than memory with a deferred write, because the ids recorded just before a crash are
the very ones Telegram redelivers after it. (The store's handled_updates table, where the
ids were kept before, is no longer used.)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

from pysqlite3 import dbapi2 as sqlite3

from tools.store import Store

log = logging.getLogger(__name__)
BUSY_TIMEOUT_S = 1.0  # only the bot's own threads write the file: each write is a moment


def ledger_path(store: Store) -> Path:
    return store.path.with_suffix(".updates.db")


def first_delivery(store: Store, update_id: int) -> bool:
    """Record an update id; False when it was recorded before (a redelivery). When the file
    cannot be written (a read-only folder, a full disk) the update is handled: answering a
    redelivery twice is better than answering nobody."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    try:
        with _ledger(store) as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO handled_updates (update_id, handled_at) VALUES (?, ?)",
                [update_id, now],
            )
            return cursor.rowcount == 1
    except sqlite3.Error as exc:
        log.warning("could not record update %s (%s); handling it anyway", update_id, exc)
        return True


def forget_before(store: Store, cutoff: dt.datetime) -> int:
    """Drop records older than `cutoff` (Telegram keeps undelivered updates for 24 hours)."""
    with _ledger(store) as db:
        cursor = db.execute(
            "DELETE FROM handled_updates WHERE handled_at < ?",
            [cutoff.isoformat(timespec="seconds")],
        )
        return cursor.rowcount


class _Ledger:
    """One connection to the ids file, shared by the worker threads in turn: opening one per
    update costs ~7 ms (the last connection to close checkpoints the WAL)."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        # A commit survives the bot's crash (a power cut may lose the last few): no fsync.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS handled_updates"
            " (update_id INTEGER PRIMARY KEY, handled_at TEXT NOT NULL)"
        )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._db:  # commits, or rolls back on an exception
            yield self._db


@functools.lru_cache(maxsize=4)  # a bot has one store (tests open many: old ones close)
def _ledger_at(path: Path) -> _Ledger:
    return _Ledger(path)


def _ledger(store: Store) -> contextlib.AbstractContextManager[sqlite3.Connection]:
    return _ledger_at(ledger_path(store)).transaction()
