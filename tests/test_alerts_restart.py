"""Alerts across processes (issue 5): the real `inference-lens run` process against the fake
Telegram server. A CLI import in another process reaches subscribers within 30 s, and a
kill -9 mid fan-out followed by a restart loses nothing and repeats at most one message."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import bot_rows, company
from fake_telegram import FakeTelegram

from bot.alerts.subscriptions import subscribe
from tools.store import Store

BIN = Path(sys.executable).parent
DEFAULT = "self_use_inference_share"


def env_for(tg: FakeTelegram, db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TELEGRAM_"))}
    return env | {
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "INFERENCE_LENS_DB": str(db),
    }


@contextmanager
def bot_process(tg: FakeTelegram, db: Path) -> Iterator[subprocess.Popen[str]]:
    """`inference-lens run`, polling the fake server; killed at the end if still running."""
    started = len(tg.calls("getUpdates"))
    bot = subprocess.Popen(
        [str(BIN / "inference-lens"), "run"],
        env=env_for(tg, db),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(tg.calls("getUpdates")) == started:  # polling: the alerts job runs too
            assert bot.poll() is None, bot.communicate()[0]
            assert time.monotonic() < deadline, "the bot did not start"
            time.sleep(0.05)
        yield bot
    finally:
        if bot.poll() is None:
            bot.kill()
        bot.communicate(timeout=30)


def with_subscribers(
    tmp_path: Path, tg: FakeTelegram, make_dataset, n: int
) -> tuple[Path, list[int]]:
    db = tmp_path / "lens.db"
    store = Store.open(db, seed=False)
    first = make_dataset(company("a", 0.6, spread=0.05), company("b", 0.4, 0.25, spread=0.05))
    store.import_dataset(first, author="cli", source_name="1", source_hash="1")
    chats = [tg.user(5000 + i).id for i in range(n)]
    for chat in chats:
        subscribe(store, chat, None, DEFAULT, "en")
    return db, chats


def change_file(tmp_path: Path, make_dataset) -> Path:
    """A data file in which b overtakes a."""
    path = tmp_path / "change.json"
    data = make_dataset(company("b", 0.7, 0.05, spread=0.05))
    path.write_text(data.model_dump_json(exclude_none=True), encoding="utf-8")
    return path


def cli_import(tg: FakeTelegram, db: Path, path: Path) -> None:
    cmd = [str(BIN / "inference-lens"), "import", str(path)]
    subprocess.run(cmd, env=env_for(tg, db), check=True, capture_output=True, timeout=60)


def received(tg: FakeTelegram, chats: list[int]) -> dict[int, int]:
    return {chat: len(tg.inbox(chat)) for chat in chats}


def test_a_cli_import_reaches_subscribers_within_30_s(telegram, tmp_path, make_dataset):
    db, [chat] = with_subscribers(tmp_path, telegram, make_dataset, 1)
    path = change_file(tmp_path, make_dataset)
    with bot_process(telegram, db):
        cli_import(telegram, db, path)
        imported = time.monotonic()
        [alert] = telegram.wait_for_sync(chat, 1, timeout=30)
    assert alert.at - imported < 30
    assert "Ranking change · data revision 2" in alert.text


def test_kill_9_mid_fan_out_loses_nothing_and_repeats_at_most_one(telegram, tmp_path, make_dataset):
    telegram.limit_rate(overall=30, per_chat=1.0)
    db, chats = with_subscribers(tmp_path, telegram, make_dataset, 150)
    path = change_file(tmp_path, make_dataset)
    with bot_process(telegram, db) as bot:
        cli_import(telegram, db, path)
        while sum(received(telegram, chats).values()) < 40:
            assert bot.poll() is None
            time.sleep(0.01)
        bot.kill()  # SIGKILL: no cleanup of any kind
        bot.wait(10)
    before = sum(received(telegram, chats).values())
    assert before < len(chats), "the fan-out finished before the kill"
    with bot_process(telegram, db):
        deadline = time.monotonic() + 60
        while min(received(telegram, chats).values()) == 0:
            assert time.monotonic() < deadline, "alerts were lost"
            time.sleep(0.05)
        time.sleep(2.5)  # anything left would be sent within one poll
    counts = received(telegram, chats)
    repeated = [chat for chat, n in counts.items() if n > 1]
    assert len(repeated) <= 1 and all(counts[c] == 2 for c in repeated)
    for chat in repeated:
        first, second = telegram.inbox(chat)
        assert first.text == second.text  # the message in flight at the kill, sent again
    floods = [c for c in telegram.calls("sendMessage") if c.status == 429]
    assert floods == []
    rows = bot_rows(Store.open(db), "SELECT status, count(*) FROM alert_messages GROUP BY 1")
    assert dict(rows) == {"sent": len(chats)}  # one message per chat
