"""Chats' subscriptions to ranking changes, kept in the bot's file beside the store
(tools.botfile: an import holding the store's write lock does not hold them up); delivery is
the alerts job's.

A subscription is keyed by chat, company ('' in the table, None here: the whole ranking) and
metric, and carries the language its alerts are written in.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from bot.text.i18n import Lang
from tools import botfile
from tools.store import Store

WHOLE_RANKING = ""


class Subscription(BaseModel):
    chat_id: int
    company: str | None
    metric: str
    lang: Lang
    created_at: str


def subscribe(store: Store, chat_id: int, company: str | None, metric: str, lang: Lang) -> bool:
    """Add a subscription; False when the chat already had it (its language is refreshed)."""
    key = [chat_id, company or WHOLE_RANKING, metric]
    with botfile.of(store).transaction() as db:
        refreshed = db.execute(
            "UPDATE subscriptions SET lang = ? WHERE chat_id = ? AND company = ? AND metric = ?",
            [lang, *key],
        ).rowcount
        if refreshed:
            return False
        created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        db.execute(
            "INSERT INTO subscriptions (chat_id, company, metric, lang, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [*key, lang, created],
        )
    return True


def unsubscribe(
    store: Store, chat_id: int, company: str | None = None, *, everything: bool = False
) -> int:
    """Remove the chat's subscriptions to one company (None: the whole ranking), or all of
    them with `everything`; returns how many went."""
    with botfile.of(store).transaction() as db:
        if everything:
            cursor = db.execute("DELETE FROM subscriptions WHERE chat_id = ?", [chat_id])
        else:
            cursor = db.execute(
                "DELETE FROM subscriptions WHERE chat_id = ? AND company = ?",
                [chat_id, company or WHOLE_RANKING],
            )
        return cursor.rowcount


def of_chat(store: Store, chat_id: int) -> list[Subscription]:
    """A chat's subscriptions, the whole ranking first, then companies by id."""
    return _query(
        store, "SELECT * FROM subscriptions WHERE chat_id = ? ORDER BY company, metric", chat_id
    )


def watching(store: Store, company: str | None = None) -> list[Subscription]:
    """Every subscription to a company's changes (None: to the whole ranking)."""
    return _query(
        store,
        "SELECT * FROM subscriptions WHERE company = ? ORDER BY chat_id, metric",
        company or WHOLE_RANKING,
    )


def _query(store: Store, sql: str, key: object) -> list[Subscription]:
    with botfile.of(store).reading() as db:
        cursor = db.execute(sql, [key])
        names = [c[0] for c in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor]
    return [Subscription(**{**r, "company": r["company"] or None}) for r in rows]
