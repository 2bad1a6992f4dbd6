"""The bot's own state, in a SQLite file of its own beside the store (`lens.bot.db` for
`lens.db`): chats' subscriptions, the alerts outbox, users' languages and daily LLM
questions, conversation turns, and the Telegram update ids already handled.

Why not in the store: SQLite has one writer per file, and an import holds the store's write
lock for as long as it writes (seconds at 5,000 companies, 10 s and more at 50,000), so every
/lang, /subscribe, quota count or alert settled waited on it, and past the busy timeout the
user got an apology (issue 17). This file is written by the bot alone (one bot per database:
poller_lock) — a CLI import only reads which metrics are followed, and creates the file if it
is missing — so the bot's writes never wait on an import. The bot's threads share one
connection in turn (a lock): a write is a moment, and opening a connection per call costs
more than the call (the last connection to close checkpoints the WAL).

WAL with synchronous=NORMAL: a commit is not fsync'd. It survives a crash of the bot (what the
alerts' at-least-once rests on); a power cut may lose the last commits — a few alerts sent
again, a subscription to make again —, and in exchange a commit costs ~0.1 ms instead of an
fsync, so an alert can be settled before the next is sent (at most the one in flight repeats).

The store is attached as `store` (read only in practice: nothing here writes it), so the
outbox joins a revision's events (in the store, written with the revision by the import) with
the subscriptions here. Transactions are deferred (BEGIN, not IMMEDIATE: that would take the
attached store's write lock too, and wait on the import); the only writer of this file is the
bot, its writes one at a time under the lock.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Protocol

from pysqlite3 import dbapi2 as sqlite3

from tools import storefile

BUSY_TIMEOUT_S = 5.0  # the bot's own writes take a moment; a CLI creating the file, one more
LEGACY = ("bot_users", "llm_usage", "subscriptions", "alert_messages", "conversation_turns")
SCHEMA = """
CREATE TABLE bot_users (user_id INTEGER PRIMARY KEY, lang TEXT, updated_at TEXT);
CREATE TABLE llm_usage (user_id INTEGER, day TEXT, questions INTEGER, PRIMARY KEY (user_id, day));
CREATE TABLE subscriptions (chat_id INTEGER, company TEXT, metric TEXT, lang TEXT,
    created_at TEXT, PRIMARY KEY (chat_id, company, metric));
CREATE TABLE alert_messages (id INTEGER PRIMARY KEY, chat_id INTEGER, revision_id INTEGER,
    lang TEXT, status TEXT, attempts INTEGER, due_at FLOAT, sent_at FLOAT, message_id INTEGER,
    error TEXT);
CREATE UNIQUE INDEX alert_messages_chat_revision ON alert_messages (chat_id, revision_id);
CREATE INDEX alert_messages_due ON alert_messages (status, due_at);
CREATE TABLE conversation_turns (id INTEGER PRIMARY KEY, chat_id TEXT, created_at TEXT,
    question TEXT, lang TEXT, plan TEXT, answer TEXT);
CREATE INDEX conversation_turns_chat ON conversation_turns (chat_id, id);
CREATE TABLE handled_updates (update_id INTEGER PRIMARY KEY, handled_at TEXT NOT NULL);
CREATE TABLE alert_progress (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER);
"""


def path_of(store_path: Path) -> Path:
    return store_path.with_suffix(".bot.db")


class BotFile:
    """The bot's file of one store: one shared connection, used by one thread at a time."""

    def __init__(self, store_path: Path) -> None:
        self.path = path_of(store_path)
        self._lock = threading.Lock()
        with storefile.translated(self.path):
            self._db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, check_same_thread=False, isolation_level=None
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            _create(self._db, store_path)
            self._db.execute("ATTACH DATABASE ? AS store", [str(store_path)])

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads (each statement its own snapshot)."""
        with self._lock, storefile.translated(self.path):
            yield self._db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed at the end, rolled back on an exception; its
        reads of the store see one snapshot."""
        with self._lock, storefile.translated(self.path):
            self._db.execute("BEGIN")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def followed_metrics(self) -> list[str]:
        """The metrics some subscription follows (none: nobody is told of changes)."""
        with self.reading() as db:
            rows = db.execute("SELECT DISTINCT metric FROM main.subscriptions ORDER BY metric")
            return [m for (m,) in rows]


def _create(db: sqlite3.Connection, store_path: Path) -> None:
    """Make the tables once, taking over the state an older build kept in the store
    (languages and subscriptions survive the upgrade). Before the store is attached:
    BEGIN IMMEDIATE would take the write lock of every attached file, the store's too."""
    db.execute("BEGIN IMMEDIATE")
    try:
        if not db.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            _take_over(db, store_path)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _take_over(db: sqlite3.Connection, store_path: Path) -> None:
    """Copy the old build's tables from the store (read on a connection of its own, which
    sees the last commit: an import in progress, even this process's, does not hold it up).
    Every revision until then had its alerts fanned out by that build's import."""
    with closing(sqlite3.connect(store_path, timeout=BUSY_TIMEOUT_S)) as old:
        tables = {r[0] for r in old.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for table in LEGACY:
            if table not in tables:
                continue
            columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
            names = ", ".join(columns)
            rows = old.execute(f"SELECT {names} FROM {table}")
            marks = ", ".join("?" for _ in columns)
            db.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        latest = (
            "SELECT coalesce(max(id), 0) FROM revisions" if "revisions" in tables else "SELECT 0"
        )
        (seen,) = old.execute(latest).fetchone()
    db.execute("INSERT INTO alert_progress (id, revision) VALUES (1, ?)", [seen])


class HasPath(Protocol):
    @property
    def path(self) -> Path: ...


@functools.lru_cache(maxsize=8)  # a bot has one store (tests open many: old ones close)
def _at(store_path: Path) -> BotFile:
    return BotFile(store_path)


def of(store: HasPath) -> BotFile:
    """The bot file beside this store (made, and the old state moved in, on first use)."""
    return _at(store.path)  # not resolved: that costs a system call per folder, per call
