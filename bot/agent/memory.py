"""Conversation memory: the last few turns of each chat, kept in the bot's file beside the
store (tools.botfile), so a question asked during an import is not held up by its lock."""

from __future__ import annotations

import asyncio
import datetime as dt

from pydantic import BaseModel

from bot.agent.planner import Plan
from bot.text.i18n import Lang
from tools import botfile
from tools.store import Store

KEEP_TURNS = 6  # per chat; enough for follow-ups, small enough to stay cheap in the prompt


class Turn(BaseModel):
    question: str
    lang: Lang
    plan: Plan | None
    answer: str


def _recent(store: Store, chat_id: str, n: int) -> list[Turn]:
    with botfile.of(store).reading() as db:
        rows = db.execute(
            "SELECT question, lang, plan, answer FROM conversation_turns"
            " WHERE chat_id = ? ORDER BY id DESC LIMIT ?",
            [chat_id, n],
        ).fetchall()
    return [
        Turn(
            question=q,
            lang=lang,
            plan=Plan.model_validate_json(plan) if plan else None,
            answer=answer,
        )
        for q, lang, plan, answer in reversed(rows)
    ]


def _remember(store: Store, chat_id: str, turn: Turn) -> None:
    with botfile.of(store).transaction() as db:
        db.execute(
            "INSERT INTO conversation_turns (chat_id, created_at, question, lang, plan, answer)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                chat_id,
                dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                turn.question,
                turn.lang,
                turn.plan.model_dump_json() if turn.plan else "",
                turn.answer,
            ],
        )
        # Bounded: older turns of this chat go as soon as a new one arrives.
        db.execute(
            "DELETE FROM conversation_turns WHERE chat_id = ? AND id NOT IN"
            " (SELECT id FROM conversation_turns WHERE chat_id = ? ORDER BY id DESC LIMIT ?)",
            [chat_id, chat_id, KEEP_TURNS],
        )


async def recent(store: Store, chat_id: str, n: int = KEEP_TURNS) -> list[Turn]:
    """The chat's last `n` turns, oldest first (the store's SQLite work runs in a thread)."""
    return await asyncio.to_thread(_recent, store, chat_id, n)


async def remember(store: Store, chat_id: str, turn: Turn) -> None:
    await asyncio.to_thread(_remember, store, chat_id, turn)
