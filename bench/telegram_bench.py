"""Telegram benchmark (issue 4): /rank and /tiers answered over loopback.

The real `inference-lens run` process polls the fake Telegram server of the tests
(tests/fake_telegram.py) on 127.0.0.1. Users send /rank and /tiers (any company, by any of its
names, in Chinese and English) at 8 requests a second, below Telegram's 30 messages a second
overall, each user at most once every few seconds (a private chat gets about one message a
second). A request's latency runs from the update entering the server's queue to the last
message of the answer arriving there: the one carrying the buttons (a chart answer is one
photo message with its text as caption, or the photo then one text).

Targets: p50 <= 50 ms and p95 <= 150 ms in steady state. Also printed: the first round right
after start (charts may still be drawing), a round right after an import (every chart of the
new revision is drawn anew) and a /start round trip as the loopback baseline.
Exits 1 when a target is missed.
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fake_telegram import FakeTelegram, User

P50_TARGET_MS, P95_TARGET_MS = 50.0, 150.0
RATE_PER_S = 8
STEADY_REQUESTS = 240
USERS = 60
NAMES = {
    "xiaomi": ["小米", "xiaomi", "1810.HK"],
    "bytedance": ["字节跳动", "bytedance"],
    "tencent": ["腾讯", "0700.HK"],
    "alibaba": ["阿里巴巴", "BABA"],
    "meituan": ["美团", "meituan"],
    "baidu": ["百度", "BIDU"],
}
RUN = Path(sys.executable).with_name("inference-lens")


@dataclass
class Request:
    user: User
    text: str
    sent_at: float


def start_bot(tg: FakeTelegram, db: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TELEGRAM_"))}
    env |= {
        "TELEGRAM_BOT_TOKEN": tg.token,
        "TELEGRAM_API_BASE_URL": tg.base_url,
        "INFERENCE_LENS_DB": str(db),
    }
    return subprocess.Popen(
        [str(RUN), "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def commands(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        if rng.random() < 0.5:
            out.append(rng.choice(["/rank", "/rank", "/rank external_supply_share"]))
        else:
            names = [name for options in NAMES.values() for name in options]
            out.append(f"/tiers {rng.choice(names)}")
    return out


def drive(
    tg: FakeTelegram, users: list[User], texts: list[str], counts: dict[int, int]
) -> list[Request]:
    """Send at a steady pace, round-robin over the users; returns what was sent and when."""
    requests = []
    start = time.monotonic()
    for i, text in enumerate(texts):
        time.sleep(max(start + i / RATE_PER_S - time.monotonic(), 0))
        user = users[i % len(users)]
        counts[user.id] = counts.get(user.id, 0) + 1
        at = time.monotonic()
        tg.user_says(user, text)
        requests.append(Request(user, text, at))
    return requests


def latencies(tg: FakeTelegram, requests: list[Request]) -> list[float]:
    """Each answer's time: a user's requests are seconds apart, so an answer is what arrived
    after its request, up to and including the first message with buttons."""
    out = []
    for r in requests:
        deadline = time.monotonic() + 60
        while True:
            got = [m for m in tg.inbox(r.user.id) if m.at >= r.sent_at]
            last = next((i for i, m in enumerate(got) if m.buttons), None)
            if last is not None:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{r.text!r}: no answer")
            time.sleep(0.005)
        if not any(m.photo for m in got[: last + 1]):
            raise RuntimeError(f"{r.text!r}: unexpected answer {got[last].text[:80]!r}")
        out.append((got[last].at - r.sent_at) * 1000)
    return out


def import_a_change(db: Path, folder: str) -> None:
    """What an admin's upload does, from outside the bot: one company gets another alias,
    so the data has a new revision and every memoised chart key changes."""
    from tools.store import Store

    ds = Store.open(db, seed=False).universe().to_dataset()
    first = ds.companies[0]
    changed = first.model_copy(update={"aliases": [*first.aliases, "bench alias"]})
    ds = ds.model_copy(update={"companies": [changed, *ds.companies[1:]]})
    path = Path(folder) / "change.json"
    path.write_text(ds.model_dump_json())
    command = [str(RUN), "--db", str(db), "import", str(path)]
    subprocess.run(command, check=True, capture_output=True)


def report(label: str, ms: list[float]) -> tuple[float, float]:
    p50 = statistics.median(ms)
    p95 = statistics.quantiles(ms, n=20)[18]
    print(
        f"{label:<34} n={len(ms):>3}  p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  max {max(ms):6.1f} ms"
    )
    return p50, p95


def baseline(tg: FakeTelegram) -> list[float]:
    """/start round trips (one message, no tool): the floor set by polling and loopback HTTP."""
    out = []
    for i in range(40):
        user = tg.user(20_000 + i)
        at = time.monotonic()
        tg.user_says(user, "/start")
        out.append((tg.wait_for_sync(user.id, 1)[0].at - at) * 1000)
        time.sleep(1.0 / RATE_PER_S)
    return out


def main() -> int:
    rng = random.Random(20260101)
    with tempfile.TemporaryDirectory() as folder, FakeTelegram() as tg:
        bot = start_bot(tg, Path(folder) / "bench.db")
        try:
            users = [
                tg.user(10_000 + i, language_code=rng.choice(["zh-hans", "en"]))
                for i in range(USERS)
            ]
            probe = tg.user(9_999)
            tg.user_says(probe, "/start")
            tg.wait_for_sync(probe.id, 1, timeout=60)
            counts: dict[int, int] = {}
            first_texts = ["/rank"] + [f"/tiers {names[0]}" for names in NAMES.values()]
            first = latencies(tg, drive(tg, users, first_texts * 2, counts))
            steady = latencies(tg, drive(tg, users, commands(rng, STEADY_REQUESTS), counts))
            import_a_change(Path(folder) / "bench.db", folder)
            imported = latencies(tg, drive(tg, users, first_texts * 2, counts))
            floor = baseline(tg)
        finally:
            bot.send_signal(signal.SIGTERM)
            bot.wait(60)
    report("first round, just after start", first)
    report("first round, just after an import", imported)
    floor_p50, _ = report("/start round trip (baseline)", floor)
    p50, p95 = report("/rank and /tiers, steady state", steady)
    print(
        f"p50 {p50:.1f} ms = {p50 / P50_TARGET_MS:.2f} x target, {p50 / floor_p50:.1f} x the /start round trip"
    )
    print(f"p95 {p95:.1f} ms = {p95 / P95_TARGET_MS:.2f} x target")
    ok = p50 <= P50_TARGET_MS and p95 <= P95_TARGET_MS
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
