"""Running the bot: the real `inference-lens run` process, the webhook mode, one bot per database."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fake_telegram import FakeTelegram
from telegram_harness import running_bot, settings_for

from bot.cli.main import main
from bot.telegram.app import Webhook, build_application, serve, webhook_secret
from bot.telegram.poller_lock import AlreadyRunning
from tools.store import Store

RUN = [str(Path(sys.executable).with_name("inference-lens")), "run"]


def bot_env(tg: FakeTelegram, db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TELEGRAM_"))}
    return env | {
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "INFERENCE_LENS_DB": str(db),
    }


def test_run_without_a_token_says_so_and_exits_2(monkeypatch, capsys):
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert main(["run"]) == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in capsys.readouterr().err


def test_run_with_bad_settings_exits_2(monkeypatch, capsys):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    monkeypatch.setenv("LLM_DAILY_LIMIT", "lots")
    assert main(["run"]) == 2
    assert "LLM_DAILY_LIMIT" in capsys.readouterr().err


def test_the_real_process_answers_and_a_second_one_is_refused(telegram, isolated_db):
    alice = telegram.user(3001, language_code="zh")
    env = bot_env(telegram, isolated_db)
    bot = subprocess.Popen(
        RUN, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        telegram.user_says(alice, "/tiers 小米")
        (tiers,) = telegram.wait_for_sync(alice.id, 1, timeout=30)  # one message: photo + text
        assert tiers.photo and tiers.text.startswith("小米 四层拆分")
        second = subprocess.run(RUN, env=env, capture_output=True, text=True, timeout=60)
        assert second.returncode == 2
        assert f"another bot (pid {bot.pid}) is already running" in second.stderr
    finally:
        bot.send_signal(signal.SIGTERM)
        out, _ = bot.communicate(timeout=30)
    assert bot.returncode == 0, out
    assert telegram.token not in out  # the token is never logged


async def test_a_second_bot_on_the_same_database_is_refused(telegram, store: Store):
    async with running_bot(telegram, store):
        other = build_application(settings_for(telegram), Store.open(store.path))
        with pytest.raises(AlreadyRunning):
            await serve(other, asyncio.Event())


async def test_webhook_mode(telegram, store: Store):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = settings_for(telegram)
    hook = Webhook(f"http://127.0.0.1:{port}/telegram", port)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(build_application(settings, store), stop, hook))
    while telegram.webhook is None:
        await asyncio.sleep(0.01)
    alice = telegram.user(3002)
    try:
        assert telegram.webhook == {"url": hook.url, "secret_token": webhook_secret(settings)}
        telegram.user_says(alice, "/rank")
        (ranking,) = await telegram.wait_for(alice.id, 1)
        assert ranking.photo and ranking.text.startswith("Ranking by")
        assert [c.status for c in telegram.calls("webhook")] == [200]
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


def test_an_unreachable_bot_api_is_a_clear_error(monkeypatch, capsys):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", f"http://127.0.0.1:{closed}/bot")
    monkeypatch.setattr("bot.telegram.flood.NETWORK_BACKOFF_S", (0.0,))
    assert main(["run"]) == 2
    assert f"cannot reach the Bot API at http://127.0.0.1:{closed}/bot" in capsys.readouterr().err
