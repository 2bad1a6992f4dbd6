"""Telegram benchmark (issue 4): /rank and /tiers answered over loopback.

The real `inference-lens run` process polls the fake Telegram server of the tests
(tests/fake_telegram.py) on 127.0.0.1. Users send /rank and /tiers (any company, by any of its
names, in Chinese and English) at 8 requests a second, below Telegram's 30 messages a second
overall, each user at most once every few seconds (a private chat gets about one message a
second). A request's latency runs from the update entering the server's queue to the last
message of the answer (chart, then text) arriving there.

Targets: p50 <= 50 ms and p95 <= 150 ms in steady state. Also printed: the first round right
after start (charts may still be drawing) and a /start round trip as the loopback baseline.
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
    nth: int  # this user's nth request: its answer is messages 2n and 2n+1 of the chat


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
        nth = counts.get(user.id, 0)
        counts[user.id] = nth + 1
        at = time.monotonic()
        tg.user_says(user, text)
        requests.append(Request(user, text, at, nth))
    return requests


def latencies(tg: FakeTelegram, requests: list[Request]) -> list[float]:
    out = []
    for r in requests:
        got = tg.wait_for_sync(r.user.id, 2 * r.nth + 2, timeout=60)
        chart, text = got[2 * r.nth], got[2 * r.nth + 1]
        if chart.photo is None or not text.text:
            raise RuntimeError(f"{r.text!r}: unexpected answer {text.text[:80]!r}")
        out.append((text.at - r.sent_at) * 1000)
    return out


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
            floor = baseline(tg)
        finally:
            bot.send_signal(signal.SIGTERM)
            bot.wait(60)
    report("first round, just after start", first)
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
