"""Per-user bot state in the bot's file beside the store (tools.botfile: an import does not
hold it up): the language a user chose and their daily LLM questions.

Plain synchronous functions over the store; the bot calls them through `asyncio.to_thread`.
"""

from __future__ import annotations

import datetime as dt

from bot.text.i18n import Lang
from tools import botfile
from tools.store import Store


def stored_lang(store: Store, user_id: int) -> Lang | None:
    """The language the user chose with /lang, if any."""
    with botfile.of(store).reading() as db:
        row = db.execute("SELECT lang FROM bot_users WHERE user_id = ?", [user_id]).fetchone()
    return row[0] if row else None


def set_lang(store: Store, user_id: int, lang: Lang) -> None:
    """Remember a user's language, and speak it in the user's private-chat subscriptions too."""
    with botfile.of(store).transaction() as db:
        db.execute(
            "INSERT OR REPLACE INTO bot_users (user_id, lang, updated_at) VALUES (?, ?, ?)",
            [user_id, lang, _now()],
        )
        # A private chat's id is the user's id.
        db.execute("UPDATE subscriptions SET lang = ? WHERE chat_id = ?", [lang, user_id])


def take_llm_question(store: Store, user_id: int, limit: int, day: dt.date | None = None) -> bool:
    """Count one LLM question for today (UTC) if the user is under `limit`; False when over."""
    today = (day or dt.datetime.now(dt.UTC).date()).isoformat()
    with botfile.of(store).transaction() as db:
        row = db.execute(
            "SELECT questions FROM llm_usage WHERE user_id = ? AND day = ?", [user_id, today]
        ).fetchone()
        used = row[0] if row else 0
        if used >= limit:
            return False
        db.execute(
            "INSERT OR REPLACE INTO llm_usage (user_id, day, questions) VALUES (?, ?, ?)",
            [user_id, today, used + 1],
        )
    return True


def forget_usage_before(store: Store, day: dt.date) -> int:
    """Drop quota counters older than `day`; returns how many rows went."""
    with botfile.of(store).transaction() as db:
        return db.execute("DELETE FROM llm_usage WHERE day < ?", [day.isoformat()]).rowcount


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
