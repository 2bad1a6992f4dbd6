"""`inference-lens ask` and `inference-lens chat`: the agent in a terminal.

`chat` keeps one event loop for the session (so the LLM client and its connections are
reused), line editing and a history file beside the database, and the Telegram bot's slash
commands, which run the matching CLI command and print its table.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from bot.agent import prose, registry
from bot.agent.answers import Answer
from bot.agent.loop import answer
from bot.agent.registry import ToolContext
from bot.settings import LLMSettings
from bot.text import fmt
from bot.text.i18n import Lang, t
from tools.store import Store
from tools.taxonomy import METRICS

CHAT_ID = "cli"  # one conversation per database: `ask` and `chat` share follow-up memory
CLI_COMMANDS = ("rank", "tiers", "company", "compare", "history", "whatif", "sources")
PROMPT = "› "


# Runs one CLI command line (the table commands print as `inference-lens` does); passed in
# by bot.cli.main, which imports this module, so the two never import each other.
RunCommand = Callable[[list[str]], object]


def ask(
    store: Store, settings: LLMSettings, question: str, lang: Lang | None, as_json: bool
) -> None:
    """Answer one question and print it (or the --json contract)."""
    result = asyncio.run(
        answer(question, store=store, settings=settings, lang=lang, chat_id=CHAT_ID)
    )
    print(contract(result) if as_json else shown(result))


def contract(a: Answer) -> str:
    """The `ask --json` contract: answer, mode, fallback (why offline), note, tool_calls,
    ungrounded, llm_requests."""
    data = {
        "answer": a.text,
        "mode": a.mode,
        "fallback": a.fallback,
        "note": a.note,
        "tool_calls": [c.model_dump(mode="json") for c in a.tool_calls],
        "ungrounded": [r.model_dump(include={"text", "subject", "reason"}) for r in a.ungrounded],
        "llm_requests": a.llm_requests,
    }
    return json.dumps(fmt.tidy(data), ensure_ascii=False, indent=2)


def shown(a: Answer) -> str:
    return a.text + (f"\n{a.note}" if a.note else "")


def chat(
    store: Store, settings: LLMSettings, lang: Lang | None, default_lang: Lang, run: RunCommand
) -> None:
    """Read questions and slash commands until /quit or end of input."""
    _line_editing(store.path.parent / "chat_history")
    print(t("chat_welcome", lang or default_lang))
    with asyncio.Runner() as runner:
        while (line := _read()) is not None:
            if line in ("/quit", "/exit"):
                break
            if line.startswith("/"):
                print(slash(line, store, lang or default_lang, run))
            elif line:
                print(_ask(runner, store, settings, line, lang))
            print()


def _ask(
    runner: asyncio.Runner, store: Store, settings: LLMSettings, question: str, lang: Lang | None
) -> str:
    turn = answer(question, store=store, settings=settings, lang=lang, chat_id=CHAT_ID)
    try:
        return shown(runner.run(turn))
    except KeyboardInterrupt:  # Ctrl-C while waiting stops this answer, not the session
        return t("chat_interrupted", lang or "en")


def _read() -> str | None:
    try:
        return input(PROMPT).strip()
    except EOFError:
        return None
    except KeyboardInterrupt:  # Ctrl-C drops the line being typed, as in a shell
        print()
        return ""


def _line_editing(history: Path) -> None:
    """Arrow keys and a persistent history, when a person is typing (not for piped input)."""
    if not sys.stdin.isatty():
        return
    import readline  # only here: importing it can print control codes to a non-terminal

    with contextlib.suppress(OSError):
        readline.read_history_file(history)
    readline.set_history_length(1000)
    atexit.register(readline.write_history_file, history)


def slash(line: str, store: Store, lang: Lang, run: RunCommand) -> str:
    """Run a slash command; the table commands are the CLI's own, so they print as it does."""
    try:
        name, *args = shlex.split(line[1:])
    except ValueError as exc:
        return t("error", lang, message=exc)
    if name in CLI_COMMANDS:
        _cli(store, lang, name, args, run)
        return ""
    if name == "methodology":
        ctx = ToolContext(store, store.universe(), lang)
        outcome = registry.call("methodology", {"topic": args[0]} if args else {}, ctx)
        return prose.render([outcome], lang)
    if name == "help":
        return prose.help_text(lang)
    return t("chat_unknown_command", lang, name=name)


def _cli(store: Store, lang: Lang, name: str, args: list[str], run: RunCommand) -> None:
    if name == "rank" and args and args[0] in METRICS:
        args = ["--metric", *args]  # "/rank external_supply_share", as in Telegram
    with contextlib.suppress(SystemExit):  # argparse has printed its usage message
        run(["--db", str(store.path), "--lang", lang, name, *args])
