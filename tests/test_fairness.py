"""The update scheduler on its own: users take turns, a flood is cut off with one note."""

from __future__ import annotations

import asyncio
import datetime as dt

from telegram import Chat, Message, Update, User

from bot.telegram.fairness import FairUpdateProcessor


def update_from(user_id: int, update_id: int) -> Update:
    chat = Chat(user_id, Chat.PRIVATE)
    user = User(user_id, "someone", is_bot=False)
    return Update(update_id, Message(update_id, dt.datetime.now(dt.UTC), chat, from_user=user))


async def run_all(processor: FairUpdateProcessor, senders: list[int]) -> list[int]:
    """Submit one update per entry, all at once, as the Application does; the order they ran."""
    ran: list[int] = []

    async def handle(user_id: int) -> None:
        ran.append(user_id)
        await asyncio.sleep(0.01)

    tasks = [
        asyncio.create_task(processor.process_update(update_from(u, i), handle(u)))
        for i, u in enumerate(senders)
    ]
    await asyncio.gather(*tasks)
    return ran


async def test_users_take_turns_rather_than_arrival_order():
    processor = FairUpdateProcessor(1, per_user=1, backlog=10)
    ran = await run_all(processor, [1, 1, 1, 1, 2, 2, 3])
    # User 1's first starts at once; its second had arrived before the others, then each
    # round gives every user one turn (arrival order would be 1, 1, 1, 1, 2, 2, 3).
    assert ran == [1, 1, 2, 3, 1, 2, 1]


async def test_a_flood_beyond_the_backlog_is_dropped_with_one_note():
    processor = FairUpdateProcessor(4, per_user=2, backlog=3)
    noted: list[int] = []

    async def note(update: Update) -> None:
        noted.append(update.effective_user.id)

    processor.on_dropped(note)
    ran = await run_all(processor, [7] * 20 + [8])
    await asyncio.sleep(0)  # the note is sent in the background
    assert ran.count(7) == 2 + 3 and ran.count(8) == 1
    assert processor.dropped == 15 and noted == [7]
    # Once the backlog has drained the flood is over: a new one gets a new note.
    await run_all(processor, [7] * 6)
    await asyncio.sleep(0)
    assert noted == [7, 7]
