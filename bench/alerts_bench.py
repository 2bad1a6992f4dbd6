"""Alerts benchmark (issue 5): fan-out of 1,000 alerts against a fake Telegram server that
enforces 30 messages a second overall and one a second per chat (429 past either).

Target: the achieved rate is at least 90% of the limit, with no 429 storm (none at all is
expected: the pace stays under the limit). Prints the figures; exits 1 when a target is missed.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from conftest import BASE, company
from fake_telegram import FakeTelegram
from telegram_harness import running_bot

from bot.alerts.subscriptions import subscribe
from tools.models import Dataset
from tools.store import Store

SUBSCRIBERS = 1_000
LIMIT = 30.0
TARGET = 0.9 * LIMIT
MAX_429 = 5  # "no storm": a stray one is tolerable, a cascade is not


def dataset(*companies: dict) -> Dataset:
    return Dataset.model_validate({**BASE, "companies": list(companies)})


def prepared(path: Path, tg: FakeTelegram) -> tuple[Store, list[int]]:
    """A ranking, and 1,000 users (half in Chinese) following all of it."""
    store = Store.open(path, seed=False)
    first = dataset(company("a", 0.6, spread=0.05), company("b", 0.4, 0.25, spread=0.05))
    store.import_dataset(first, author="bench", source_name="1", source_hash="1")
    chats = [tg.user(10_000 + i).id for i in range(SUBSCRIBERS)]
    for i, chat in enumerate(chats):
        subscribe(store, chat, None, "self_use_inference_share", "zh" if i % 2 else "en")
    return store, chats


async def fan_out(tg: FakeTelegram, store: Store, chats: list[int]) -> float:
    """Import a change with the bot running; returns when the import committed."""
    async with running_bot(tg, store):
        change = dataset(company("b", 0.7, 0.05, spread=0.05))
        await asyncio.to_thread(
            store.import_dataset, change, author="bench", source_name="2", source_hash="2"
        )
        imported = time.monotonic()
        for chat in chats:
            await tg.wait_for(chat, 1, timeout=120)
        await asyncio.sleep(2.5)  # duplicates, if any, would arrive within one poll
    return imported


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp, FakeTelegram() as tg:
        tg.limit_rate(overall=LIMIT, per_chat=1.0)
        store, chats = prepared(Path(tmp) / "bench.db", tg)
        imported = asyncio.run(fan_out(tg, store, chats))
    times = sorted(s.at for chat in chats for s in tg.inbox(chat))
    duplicates = len(times) - len(chats)
    floods = sum(1 for c in tg.calls("sendMessage") if c.status == 429)
    rate = (len(chats) - 1) / (times[len(chats) - 1] - times[0])
    print(f"alerts: {len(chats):,} subscribers, one message each, fake server limit {LIMIT:.0f}/s")
    print(f"import → first alert: {times[0] - imported:.2f} s (poll every 2 s)")
    print(f"import → last alert: {times[-1] - imported:.1f} s")
    print(f"achieved rate: {rate:.1f} msg/s = {rate / LIMIT:.0%} of the limit (target >= 90%)")
    print(f"429 answers: {floods} (target <= {MAX_429}); duplicates: {duplicates}")
    ok = rate >= TARGET and floods <= MAX_429 and duplicates == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
