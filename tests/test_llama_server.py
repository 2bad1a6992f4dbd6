"""`ask` and the Telegram bot against a real llama.cpp server (llama-cpp-python, SmolLM2-135M)
on loopback: a server nobody here wrote, with a model too small to answer well.

Not run by `make test` (marker `realserver`); `make test-llm-server` builds or finds the
server and the model (tests/llama_server_setup.sh) and runs this file. What must hold, whatever
the model writes: no crash, an answer within the budget, no figure the tools do not support,
and nothing that is no answer (tool-call syntax, entities, Markdown, other topics) as `llm`.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram_harness import running_bot

from bot.agent import answer_shape, grounding
from bot.settings import Settings
from bot.text.i18n import t
from tools.store import Store

pytestmark = pytest.mark.realserver

ROOT = Path(__file__).resolve().parent.parent
SETUP = ROOT / "tests" / "llama_server_setup.sh"
BUDGET = 120.0  # seconds: a 135M model on two CPU cores, prompt ~1,700 tokens after the retry
SLACK = 90.0  # process start and the offline rendering, on a machine shared with other work
QUESTIONS = [
    ("en", "Where does Xiaomi rank on self-use inference?"),
    ("en", "Who wins the AI race in the end?"),
    ("zh", "小米的自用推理占比排第几?"),
    ("zh", "阿里算是卖水的还是用水的?"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The llama.cpp server's /v1 URL, started for this module and stopped after it."""
    done = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"setup failed: {done.stderr[-2000:]}"
    python, model = done.stdout.split()[-2:]
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    command = [python, "-m", "llama_cpp.server", "--model", model, "--chat_format",
               "chatml-function-calling", "--host", "127.0.0.1", "--port", str(port),
               "--n_ctx", "2048"]  # fmt: skip
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    started = time.monotonic()
    while not _up(url):
        assert process.poll() is None, f"server exited: {log.read_text()[-2000:]}"
        assert time.monotonic() - started < 180, "server did not start in 180 s"
        time.sleep(0.5)
    print(f"llama.cpp server up in {time.monotonic() - started:.1f} s")
    yield url
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
    assert process.returncode is not None


def _env(url: str, tmp_path: Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return {
        **base,
        "INFERENCE_LENS_DB": str(tmp_path / "lens.db"),
        "OPENAI_BASE_URL": url,
        "OPENAI_MODEL": "smollm2-135m",
        "INFERENCE_LENS_LLM_BUDGET": str(BUDGET),
        "INFERENCE_LENS_LLM_MAX_TOKENS": "200",
    }


def _supported(data: dict, question: str, store: Store) -> list[str]:
    """The answer's claims that its own tool results do not support (none may be)."""
    calls = [c for c in data["tool_calls"] if "error" not in c["result"]]
    evidence = grounding.Evidence.of(
        [c["result"] for c in calls],
        [c["arguments"] for c in calls],
        question,
        grounding.names_of(store.universe()),
    )
    return [r.text for r in grounding.check(data["answer"], evidence).rejected]


@pytest.mark.parametrize(("lang", "question"), QUESTIONS)
def test_ask_against_llama_cpp(server: str, tmp_path: Path, store: Store, lang, question):
    started = time.monotonic()
    done = subprocess.run(
        [str(ROOT / ".venv/bin/inference-lens"), "ask", question, "--json"],
        env=_env(server, tmp_path),
        capture_output=True,
        text=True,
        timeout=BUDGET + SLACK,
    )
    took = time.monotonic() - started
    print(f"{question!r}: {took:.1f} s")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
    data = json.loads(done.stdout)
    print(f"  mode={data['mode']} fallback={data['fallback']} requests={data['llm_requests']}")
    print(f"  {data['answer'][:300]!r}")
    assert took < BUDGET + SLACK and data["llm_requests"] >= 1
    if data["mode"] == "llm":
        assert _supported(data, question, store) == []
        names = [name for name, _ in grounding.names_of(store.universe())]
        assert answer_shape.unusable(data["answer"], question, [], names) is None


async def test_the_telegram_bot_against_llama_cpp(server, telegram, store, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", server)
    monkeypatch.setenv("INFERENCE_LENS_LLM_BUDGET", str(BUDGET))
    monkeypatch.setenv("INFERENCE_LENS_LLM_MAX_TOKENS", "200")
    llm = Settings.load().llm
    wang, alice = telegram.user(3001, language_code="zh"), telegram.user(3002)
    async with running_bot(telegram, store, llm=llm):
        for user, (lang, question) in zip([alice, wang], [QUESTIONS[0], QUESTIONS[2]], strict=True):
            started = time.monotonic()
            telegram.user_says(user, question)
            replies = await telegram.wait_for(user.id, 1, timeout=BUDGET + SLACK)
            print(f"telegram {question!r}: {time.monotonic() - started:.1f} s")
            text = replies[-1].text
            assert text.strip() and text != t("sorry", lang)  # an answer, not the apology
            assert not answer_shape.TOOL_SYNTAX.search(text)
