"""Planner benchmark (issue 12): how often the offline plan is right, how often the LLM's
prefetch is right, and the cold start of `ask` beside `rank`.

1. Offline accuracy over bench/data/questions.yaml, or the file given as the argument (e.g.
   bench/data/questions_blind.yaml, the held-out set), chains asked in one chat: the plan's
   intent, companies and every slot the question names (metric, region, period, span, top,
   what-if, kind, reason) match, and the offline answer shows the expected figures. Target >= 95%.
2. Prefetch accuracy: the calls prefetched for the LLM (none when the plan is not confident)
   are the calls the expected plan makes; a question with nothing to look up prefetches nothing.
3. Cold start: whole-process time of offline `inference-lens ask` <= 1.5x `inference-lens rank`,
   medians of interleaved runs.
Prints the figures; exits 1 when a target is missed.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.agent.loop import answer  # noqa: E402
from bot.agent.planner import Plan, question_lang, tool_calls  # noqa: E402
from bot.settings import LLMSettings  # noqa: E402
from bot.text import fmt, terms  # noqa: E402
from tools.store import Store  # noqa: E402

QUESTIONS = ROOT / "bench" / "data" / "questions.yaml"
CLI = ROOT / ".venv" / "bin" / "inference-lens"
ACCURACY_MIN, PREFETCH_MIN, COLD_RATIO_MAX = 0.95, 0.95, 1.5
COLD_ROUNDS = 5
SLOTS = ("metric", "region", "period", "span", "top", "whatif", "kind", "reason")


def chains(path: Path = QUESTIONS) -> list[list[dict[str, Any]]]:
    """Every entry as a chat: a lone question is a chain of one."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [e.get("chain", [e]) for e in entries]


def mismatch(p: Plan, want: dict[str, Any]) -> list[str]:
    """What the plan gets wrong, as 'field: got != want'."""
    got = p.model_dump()
    pairs = [
        ("intent", p.intent, want["intent"]),
        ("companies", p.companies, want.get("companies", [])),
    ]
    for slot in SLOTS:
        if slot in want:
            value = got.get(slot)
            if slot == "whatif" and value is not None:
                value = {**value, "value": round(value["value"], 3)}
                want = {
                    **want,
                    "whatif": {**want["whatif"], "value": round(want["whatif"]["value"], 3)},
                }
            pairs.append((slot, value, want[slot]))
    return [f"{name}: {g!r} != {w!r}" for name, g, w in pairs if g != w]


def expected_plan(p: Plan, want: dict[str, Any]) -> Plan:
    """The plan with what the question needs put right (what it does not name stays as read)."""
    fields = {k: want[k] for k in ("intent", *SLOTS) if k in want and k in Plan.model_fields}
    fields["companies"] = want.get("companies", [])
    return Plan.model_validate({**p.model_dump(), **fields})


def prefetch(p: Plan, universe: Any) -> list[tuple[str, dict[str, Any]]]:
    return tool_calls(p, universe) if p.confident else []


async def run_chats(store: Store, path: Path = QUESTIONS) -> tuple[int, int, int, list[str]]:
    """(turns, right offline, right prefetch, what went wrong)."""
    llm = LLMSettings()  # no key, no endpoint: offline
    universe = store.universe()
    total = right = fetched = 0
    wrong: list[str] = []
    for n, chain in enumerate(chains(path)):
        for want in chain:
            total += 1
            a = await answer(want["q"], store=store, settings=llm, chat_id=f"planner-bench-{n}")
            p = Plan.model_validate(a.plan)
            problems = mismatch(p, want)
            shown = figures(want, str(store.path))
            problems += [f"figure {f!r} not in answer" for f in shown if f not in a.text]
            right += not problems
            if prefetch(p, universe) == tool_calls(expected_plan(p, want), universe):
                fetched += 1
            else:
                problems.append("prefetch differs")
            if problems:
                wrong.append(f"{want['q']} → {'; '.join(problems)}")
    return total, right, fetched, wrong


@functools.cache
def cli_json(command: str, db: str) -> dict[str, Any]:
    """What `inference-lens <command> --json` prints (each command runs once per bench)."""
    argv = [str(CLI), *shlex.split(command), "--json"]
    env = {**os.environ, "INFERENCE_LENS_DB": db}
    return json.loads(subprocess.run(argv, env=env, check=True, capture_output=True).stdout)


def figures(want: dict[str, Any], db: str) -> list[str]:
    """The figures the answer must show, as the answer writes them, from the CLI's JSON."""
    if "cli" not in want:
        return []
    result = cli_json(want["cli"], db)
    lang = question_lang(want["q"])
    rows = {row["company"]: row for row in result["rows"]}
    row = rows[want["companies"][0]] if want.get("companies") else result["rows"][0]
    said = {
        "rank": f"第 {row['rank']} 名" if lang == "zh" else f"#{row['rank']}",
        "value": terms.metric_value(result["metric"], row["value"], lang),
        "top": row["name_zh"] if lang == "zh" else row["name"],
        "p_above": fmt.prob((row.get("above_next") or {}).get("p")),
    }
    return [said[f] for f in want["figures"]]


def cold_start() -> tuple[float, float]:
    """Median whole-process seconds of `rank` and of offline `ask`, run in turns."""
    exe = str(ROOT / ".venv" / "bin" / "inference-lens")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "INFERENCE_LENS_LLM"))
    }
    with tempfile.TemporaryDirectory() as tmp:
        env["INFERENCE_LENS_DB"] = f"{tmp}/cold.db"
        subprocess.run([exe, "rank"], env=env, check=True, capture_output=True)  # builds the db
        times: dict[str, list[float]] = {"rank": [], "ask": []}
        for _ in range(COLD_ROUNDS):
            for name, argv in (("rank", [exe, "rank"]), ("ask", [exe, "ask", "小米排第几?"])):
                started = time.perf_counter()
                subprocess.run(argv, env=env, check=True, capture_output=True)
                times[name].append(time.perf_counter() - started)
    return statistics.median(times["rank"]), statistics.median(times["ask"])


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else QUESTIONS
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"{tmp}/bench.db")
        total, right, fetched, wrong = asyncio.run(run_chats(store, path))
    for line in wrong:
        print("  wrong:", line)
    rank_s, ask_s = cold_start()
    accuracy, prefetched, ratio = right / total, fetched / total, ask_s / rank_s
    print(f"questions: {total} turns in {len(chains(path))} chats ({path.name})")
    print(f"offline accuracy: {right}/{total} = {accuracy:.1%} (target >= {ACCURACY_MIN:.0%})")
    print(f"prefetch accuracy: {fetched}/{total} = {prefetched:.1%} (target >= {PREFETCH_MIN:.0%})")
    print(
        f"cold start: ask {ask_s * 1000:.0f} ms, rank {rank_s * 1000:.0f} ms, ratio {ratio:.2f}"
        f" (target <= {COLD_RATIO_MAX})"
    )
    ok = accuracy >= ACCURACY_MIN and prefetched >= PREFETCH_MIN and ratio <= COLD_RATIO_MAX
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
