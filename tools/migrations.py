"""The store's schema, as migrations: small functions named for what they do, applied once
each, in order, inside the write transaction that opens a database (tools.store)."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from tools.frame import encode
from tools.models import TRUSTED, Snapshot

Migration = Callable[[sqlite_utils.Database], None]


def m001_versioned_records(db: sqlite_utils.Database) -> None:
    db.table("revisions").create(
        {
            "id": int,
            "created_at": str,
            "author": str,
            "source_name": str,
            "source_hash": str,
            "changes": str,
        },
        pk="id",
    )
    versioned = {
        "companies": ["id"],
        "snapshots": ["company_id", "period"],
        "sources": ["id"],
        "fx": ["period", "currency"],
        "thresholds": ["id"],
    }
    for table, keys in versioned.items():
        columns: dict[str, type] = {k: str for k in keys}
        db.table(table).create(
            {**columns, "revision_id": int, "body": str},
            pk=(*keys, "revision_id"),
            foreign_keys=[("revision_id", "revisions", "id")],
        )


def m002_conversations(db: sqlite_utils.Database) -> None:
    """Recent turns per chat, so follow-ups ("and Tencent?") survive a restart."""
    db.table("conversation_turns").create(
        {
            "id": int,
            "chat_id": str,
            "created_at": str,
            "question": str,
            "lang": str,
            "plan": str,
            "answer": str,
        },
        pk="id",
    )
    db.table("conversation_turns").create_index(["chat_id", "id"])


def m003_telegram(db: sqlite_utils.Database) -> None:
    """Telegram bot state: each user's language and daily LLM questions, chats' subscriptions
    to ranking changes ('' company = the whole ranking), and the update ids already handled
    (Telegram redelivers an update whose offset was not confirmed, e.g. after a crash)."""
    db.table("bot_users").create({"user_id": int, "lang": str, "updated_at": str}, pk="user_id")
    db.table("llm_usage").create(
        {"user_id": int, "day": str, "questions": int}, pk=("user_id", "day")
    )
    db.table("subscriptions").create(
        {"chat_id": int, "company": str, "metric": str, "lang": str, "created_at": str},
        pk=("chat_id", "company", "metric"),
    )
    db.table("handled_updates").create({"update_id": int, "handled_at": str}, pk="update_id")


def m004_alerts(db: sqlite_utils.Database) -> None:
    """Ranking-change events found at import, and the outbox of alerts to send: one row per
    (chat, event), written in the import's transaction and sent by the bot's alerts job."""
    db.table("alert_events").create(
        {
            "id": str,
            "revision_id": int,
            "kind": str,
            "company": str,
            "metric": str,
            "body": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("revision_id", "revisions", "id")],
    )
    db.table("alert_outbox").create(
        {
            "id": int,
            "chat_id": int,
            "event_id": str,
            "revision_id": int,
            "lang": str,
            "status": str,  # pending, sending, sent, dead, failed, dropped: see bot/outbox.py
            "attempts": int,
            "due_at": float,  # unix time
            "sent_at": float,
            "message_id": int,
            "error": str,
        },
        pk="id",
        foreign_keys=[("event_id", "alert_events", "id")],
    )
    db.table("alert_outbox").create_index(["chat_id", "event_id"], unique=True)
    db.table("alert_outbox").create_index(["status", "due_at"])


def m005_snapshot_numbers(db: sqlite_utils.Database) -> None:
    """Keep each snapshot's inputs as numbers beside its JSON, so rankings over thousands of
    companies read a few hundred bytes a row instead of parsing every record."""
    db.table("snapshots").add_column("currency", str)
    db.table("snapshots").add_column("numbers", bytes)
    for rowid, body in db.execute("SELECT rowid, body FROM snapshots").fetchall():
        snap = Snapshot.model_validate_json(body, context=TRUSTED)
        db.execute(
            "UPDATE snapshots SET currency = ?, numbers = ? WHERE rowid = ?",
            [snap.ai_capex.currency, encode(snap), rowid],
        )


def m006_display_names(db: sqlite_utils.Database) -> None:
    """Display names of fact keys and unit words (data/facts.yaml), versioned like the rest:
    kind is 'fact' or 'unit', key the fact key or unit word, body a {zh, en} text."""
    db.table("display_names").create(
        {"kind": str, "key": str, "revision_id": int, "body": str},
        pk=("kind", "key", "revision_id"),
        foreign_keys=[("revision_id", "revisions", "id")],
    )


def m007_alert_messages(db: sqlite_utils.Database) -> None:
    """The outbox as one row per message (chat, revision) instead of one per (chat, event):
    5,000 new companies for 200 subscribers made a million rows, and every claim read all of
    a chat's. Which events a message carries is looked up when it is sent. Each event keeps
    its new rank as a column, so the top of a long alert is chosen without reading bodies.

    Open rows move over as one message each; settled ones too, for the per-chat gap (their
    last send time). The old table stays, emptied: later migrations only add tables and
    columns (storefile.Identity.readable_by)."""
    db.table("alert_messages").create(
        {
            "id": int,
            "chat_id": int,
            "revision_id": int,
            "lang": str,
            "status": str,  # pending, sending, sent, dead, failed, dropped: see bot/alerts/outbox.py
            "attempts": int,
            "due_at": float,  # unix time
            "sent_at": float,
            "message_id": int,
            "error": str,
        },
        pk="id",
        foreign_keys=[("revision_id", "revisions", "id")],
    )
    db.table("alert_messages").create_index(["chat_id", "revision_id"], unique=True)
    db.table("alert_messages").create_index(["status", "due_at"])
    db.execute(
        """INSERT INTO alert_messages
            (chat_id, revision_id, lang, status, attempts, due_at, sent_at, message_id, error)
        SELECT chat_id, revision_id, min(lang),
            CASE WHEN max(status IN ('pending', 'sending')) THEN 'pending' ELSE max(status) END,
            max(attempts), min(due_at), max(sent_at), max(message_id), max(error)
        FROM alert_outbox GROUP BY chat_id, revision_id ORDER BY min(id)"""
    )
    db.execute("DELETE FROM alert_outbox")
    db.table("alert_events").add_column("new_rank", int)
    db.execute("UPDATE alert_events SET new_rank = json_extract(body, '$.new_rank')")
    # Covers the outbox's "which companies, best rank first" over a revision's events: read
    # from the index alone, not from rows that carry the events' bodies (5x faster at 15,000).
    db.table("alert_events").create_index(["revision_id", "company", "kind", "metric", "new_rank"])


MIGRATIONS: list[Migration] = [
    m001_versioned_records,
    m002_conversations,
    m003_telegram,
    m004_alerts,
    m005_snapshot_numbers,
    m006_display_names,
    m007_alert_messages,
]
