"""`inference-lens ask` and `chat` as separate processes, offline and against a fake LLM server."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from fake_openai import FakeOpenAI, error, honest

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-test-CLI-SECRET-0042"
CONTRACT = {"answer", "mode", "fallback", "note", "tool_calls", "ungrounded", "llm_requests"}


def cli(
    tmp_path: Path, *argv: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    environment = {**base, "INFERENCE_LENS_DB": str(tmp_path / "cli.db"), **env}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli.main", *argv],
        cwd=ROOT,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=180,  # a ceiling: `eval` asks many questions in one process
    )


def test_ask_json_offline(tmp_path):
    done = cli(tmp_path, "ask", "阿里算是卖水的还是用水的?", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == CONTRACT
    assert data["mode"] == "offline" and data["llm_requests"] == 0 and data["ungrounded"] == []
    assert data["fallback"] == "no_llm" and data["note"] is None  # nothing went wrong
    [call] = data["tool_calls"]
    assert set(call) == {"name", "arguments", "result"} and call["name"] == "tier_breakdown"
    assert call["arguments"] == {"company": "alibaba"} and call["result"]["company"] == "alibaba"
    assert "阿里巴巴" in data["answer"]


def test_ask_json_against_the_fake_llm_never_prints_the_key(tmp_path):
    with FakeOpenAI(honest) as server:
        done = cli(
            tmp_path,
            "ask",
            "Where does Xiaomi rank on self-use inference?",
            "--json",
            OPENAI_BASE_URL=server.url,
            OPENAI_API_KEY=KEY,
        )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert set(data) == CONTRACT
    assert data["mode"] == "llm" and data["llm_requests"] == 1 and data["ungrounded"] == []
    assert data["fallback"] is None
    [call] = data["tool_calls"]
    assert call["name"] == "rank" and call["result"]["rows"][0]["name"] in data["answer"]
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in done.stdout + done.stderr


def test_ask_prints_the_offline_note_when_the_llm_fails(tmp_path):
    with FakeOpenAI(lambda r: error(500, "down")) as server:
        done = cli(
            tmp_path,
            "ask",
            "tell me about xiaomy",
            OPENAI_BASE_URL=server.url,
            OPENAI_API_KEY=KEY,
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Xiaomi (1810.HK")
    assert "(The LLM is unavailable; this is the offline answer.)" in done.stdout
    assert KEY not in done.stdout + done.stderr


def test_ask_language_flags(tmp_path):
    local = cli(tmp_path, "ask", "Where does Xiaomi rank on self-use inference?", "--lang", "zh")
    assert local.stdout.startswith("小米按自用推理占比排第"), local.stderr
    global_flag = cli(tmp_path, "--lang", "zh", "ask", "Where does Xiaomi rank?")
    assert global_flag.stdout.startswith("小米按自用推理占比排第"), global_flag.stderr


def test_chat_session_with_slash_commands_and_follow_ups(tmp_path):
    lines = [
        "/rank --top 3",
        "/tiers 小米",
        "Where does Xiaomi rank on self-use inference?",
        "and Tencent?",
        "/methodology layers",
        "/help",
        "/nope",
        "/quit",
        "never read",
    ]
    done = cli(tmp_path, "chat", "--lang", "en", stdin="\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("Ask in words, or use /rank")
    assert "Ranking by self-use inference share" in out and "P(above next)" in out  # the table
    assert "Xiaomi: four-layer breakdown" in out
    assert re.search(r"Xiaomi ranks #\d+ of", out) and "Tencent ranks #" in out
    assert "edge inference: Inference on the user's device" in out
    assert "There is no /nope command; try /help." in out
    assert (tmp_path / "cli.db").exists()


def test_ask_json_says_why_an_answer_is_offline(tmp_path):
    with FakeOpenAI(lambda r: error(500, "down")) as server:
        done = cli(
            tmp_path,
            "ask",
            "tell me about xiaomi",
            "--json",
            OPENAI_BASE_URL=server.url,
            OPENAI_API_KEY=KEY,
        )
    data = json.loads(done.stdout)
    assert data["mode"] == "offline" and data["fallback"] == "llm_error"
    assert data["note"] == "(The LLM is unavailable; this is the offline answer.)"


def test_settings_come_from_a_dotenv_file_in_the_working_directory(tmp_path):
    """A `.env` beside the user works like the environment; the environment wins."""
    (tmp_path / ".env").write_text("LANG=zh_CN.UTF-8\nINFERENCE_LENS_DB=from-dotenv.db\n")
    env = {k: v for k, v in os.environ.items() if k not in ("LANG", "INFERENCE_LENS_DB")}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "rank", "--top", "1"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("按自用推理占比排名")  # LANG from .env
    assert (tmp_path / "from-dotenv.db").exists()
    english = subprocess.run(
        [sys.executable, "-m", "bot.cli.main", "rank", "--top", "1"],
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(ROOT), "LANG": "en_US.UTF-8"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert english.stdout.startswith("Ranking by"), english.stderr


def test_a_bad_setting_is_a_clear_error(tmp_path):
    done = cli(tmp_path, "rank", INFERENCE_LENS_LLM_BUDGET="soon")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "INFERENCE_LENS_LLM_BUDGET" in done.stderr
