"""Chats' subscriptions to ranking changes, kept in the store (delivery is the alerts job's).

A subscription is keyed by chat, company ('' in the table, None here: the whole ranking) and
metric, and carries the language its alerts are written in.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from bot.text.i18n import Lang
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
    with store.write() as db:
        exists = db.execute(
            "SELECT 1 FROM subscriptions WHERE chat_id = ? AND company = ? AND metric = ?", key
        ).fetchone()
        if exists:
            db.execute(
                "UPDATE subscriptions SET lang = ? WHERE chat_id = ? AND company = ? AND metric = ?",
                [lang, *key],
            )
            return False
        db.table("subscriptions").insert(
            {
                "chat_id": chat_id,
                "company": company or WHOLE_RANKING,
                "metric": metric,
                "lang": lang,
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            }
        )
    return True


def unsubscribe(
    store: Store, chat_id: int, company: str | None = None, *, everything: bool = False
) -> int:
    """Remove the chat's subscriptions to one company (None: the whole ranking), or all of
    them with `everything`; returns how many went."""
    with store.write() as db:
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
    rows = store.db.query(
        "SELECT * FROM subscriptions WHERE chat_id = ? ORDER BY company, metric", [chat_id]
    )
    return [_model(r) for r in rows]


def watching(store: Store, company: str | None = None) -> list[Subscription]:
    """Every subscription to a company's changes (None: to the whole ranking)."""
    rows = store.db.query(
        "SELECT * FROM subscriptions WHERE company = ? ORDER BY chat_id, metric",
        [company or WHOLE_RANKING],
    )
    return [_model(r) for r in rows]


def _model(row: dict) -> Subscription:
    return Subscription(**{**row, "company": row["company"] or None})
