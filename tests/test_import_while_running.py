"""An import while the bot runs (issue 17): the bot answers as usual while another process
holds the store's write lock. Before, every update started by recording its id in the store,
waited on the import's lock, and past the busy timeout the user got an apology."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

from conftest import company
from fake_telegram import FakeTelegram, User
from pysqlite3 import dbapi2 as sqlite3
from telegram_harness import running_bot

from bot.alerts.subscriptions import subscribe
from bot.telegram import updates
from tools.store import Store

CLI = Path(sys.executable).parent / "inference-lens"
COMPANIES = 1_000  # seconds of write transaction, even on a fast machine
ASKS = 4  # /starts while the import holds the lock
SLACK_S = 2.0  # the bound: no more than this longer than usual


def big_file(tmp_path: Path, make_dataset) -> Path:
    many = [company(f"n{i:04d}", 0.1 + i % 800 / 1000, spread=0.02) for i in range(COMPANIES)]
    path = tmp_path / "many.json"
    path.write_text(make_dataset(*many).model_dump_json(exclude_none=True), encoding="utf-8")
    return path


def write_locked(db: Path) -> bool:
    """Whether another connection holds the store's write lock right now."""
    probe = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:
        return True
    finally:
        probe.close()


async def answer_time(tg: FakeTelegram, user: User) -> float:
    """Seconds from /start to its answer, which must be the welcome (not an apology)."""
    asked = time.monotonic()
    tg.user_says(user, "/start")
    [reply] = await tg.wait_for(user.id, 1, timeout=30)
    assert reply.text.startswith("I'm Inference Lens"), reply.text
    return reply.at - asked


async def test_the_bot_answers_as_usual_during_a_cli_import(telegram, tmp_path, make_dataset):
    db = tmp_path / "lens.db"
    store = Store.open(db)
    subscribe(store, 1, None, "self_use_inference_share", "en")  # changes found in the import
    path = big_file(tmp_path, make_dataset)
    async with running_bot(telegram, store):
        usual = max([await answer_time(telegram, telegram.user(100 + i)) for i in range(3)])
        importing = subprocess.Popen(
            [str(CLI), "--db", str(db), "import", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        during: list[float] = []
        while importing.poll() is None and len(during) < ASKS:
            if await asyncio.to_thread(write_locked, db):
                during.append(await answer_time(telegram, telegram.user(200 + len(during))))
            else:
                await asyncio.sleep(0.05)
        _, errors = importing.communicate(timeout=600)
    assert importing.returncode == 0, errors
    assert during, "the import never held the write lock while /start was asked"
    assert max(during) <= usual + SLACK_S, (usual, during)


def test_update_ids_are_recorded_while_the_store_is_locked(store: Store):
    """The ids file is not the store: another writer's lock does not hold it up."""
    locker = sqlite3.connect(store.path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        assert updates.first_delivery(store, 7) and not updates.first_delivery(store, 7)
        assert time.monotonic() - started < 1
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert updates.ledger_path(store).exists()
