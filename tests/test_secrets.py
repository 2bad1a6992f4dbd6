"""Secrets never shown (issue 17): the bot token and the LLM key appear in no output of any
failure: a rejected token, an unreachable Telegram, the LLM refusing the key (its error
echoing the key back, as some providers and proxies do), bad settings. Each runs the real
CLI in a subprocess, and every byte it wrote (stdout, stderr: the log) is searched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from fake_openai import FakeOpenAI, Reply, Request, error
from fake_telegram import FakeTelegram

from bot.settings import Settings

CLI = str(Path(sys.executable).parent / "inference-lens")
TOKEN = "555555:AAF-rejected_Token-of-the-bot"
KEY = "sk-test-THE-secret-llm-key-0123456789"


def env(db: Path, **values: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TELEGRAM_"))}
    return base | {"INFERENCE_LENS_DB": str(db), **values}


def assert_secret_free(*outputs: str) -> None:
    for output in outputs:
        for secret in (TOKEN, KEY, TOKEN.split(":")[1], KEY[8:]):
            assert secret not in output, output


def refuse_the_key(request: Request) -> Reply:
    return error(401, f"Incorrect API key provided: {KEY}", code="invalid_api_key")


def run(db: Path, *args: str, timeout: float = 120, **values: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, *args], env=env(db, **values), capture_output=True, text=True, timeout=timeout
    )


def test_a_rejected_token_is_not_printed(tmp_path):
    with FakeTelegram() as tg:  # knows only its own token: ours gets 401 Unauthorized
        done = run(
            tmp_path / "a.db",
            "run",
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_BASE_URL=tg.base_url,
            OPENAI_API_KEY=KEY,
        )
    assert done.returncode == 2 and "rejected" in done.stderr, done.stderr
    assert_secret_free(done.stdout, done.stderr)


def test_an_unreachable_telegram_does_not_print_the_token(tmp_path):
    done = run(
        tmp_path / "a.db",
        "run",
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL="http://127.0.0.1:9/bot",  # the discard port: nobody listens
        OPENAI_API_KEY=KEY,
    )
    assert done.returncode == 2 and "cannot reach" in done.stderr, done.stderr
    assert_secret_free(done.stdout, done.stderr)


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_the_llm_refusing_the_key_does_not_print_it(tmp_path, json_flag):
    with FakeOpenAI(refuse_the_key) as llm:
        done = run(
            tmp_path / "a.db",
            "ask",
            "Where does Xiaomi rank on self-use inference?",
            *json_flag,
            OPENAI_API_KEY=KEY,
            OPENAI_BASE_URL=llm.url,
            TELEGRAM_BOT_TOKEN=TOKEN,
        )
    assert done.returncode == 0, done.stderr
    assert llm.requests, "the LLM was not asked"
    assert_secret_free(done.stdout, done.stderr)


@pytest.mark.parametrize(
    "bad",
    [
        {"LLM_DAILY_LIMIT": "lots"},
        {"ADMIN_USER_IDS": "me"},
        {"LLM_TIMEOUT": "-1"},
        {"TELEGRAM_API_BASE_URL": "not a url"},
    ],
)
def test_bad_settings_do_not_print_the_secrets(tmp_path, bad):
    done = run(tmp_path / "a.db", "run", TELEGRAM_BOT_TOKEN=TOKEN, OPENAI_API_KEY=KEY, **bad)
    assert done.returncode == 2, done.stderr
    assert_secret_free(done.stdout, done.stderr)


def test_the_running_bot_logs_no_secret_when_the_llm_refuses_the_key(tmp_path):
    with FakeTelegram(TOKEN) as tg, FakeOpenAI(refuse_the_key) as llm:
        bot = subprocess.Popen(
            [CLI, "run"],
            env=env(
                tmp_path / "a.db",
                TELEGRAM_BOT_TOKEN=TOKEN,
                TELEGRAM_API_BASE_URL=tg.base_url,
                OPENAI_API_KEY=KEY,
                OPENAI_BASE_URL=llm.url,
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            user = tg.user(77)
            tg.user_says(user, "Where does Xiaomi rank on self-use inference?")
            [reply] = tg.wait_for_sync(user.id, 1, timeout=90)
        finally:
            bot.send_signal(signal.SIGTERM)
            out, err = bot.communicate(timeout=60)
    assert llm.requests and "Xiaomi" in reply.text
    assert_secret_free(out, err, *(s.text for s in tg.inbox(user.id)))


def test_admin_ids_are_read_from_the_environment(monkeypatch):
    """Found on the bad-settings path: pydantic-settings took ADMIN_USER_IDS for JSON, so
    the documented "42, 43" crashed with a traceback and "42" was refused."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    for value, ids in (("42, 43", {42, 43}), ("42", {42})):
        monkeypatch.setenv("ADMIN_USER_IDS", value)
        assert Settings.load().telegram().admin_ids == ids
