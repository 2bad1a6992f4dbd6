"""Issue 17: at 5,000 companies every Telegram answer stays a message's size and says how
many more there are (a free "rank the companies" was 540,000 characters; /history listed
every company a move passed)."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import pytest
from conftest import BASE, company
from fake_telegram import CAPTION_LIMIT, FakeTelegram, utf16_len
from telegram_harness import running_bot

from bot.agent.loop import answer
from bot.settings import LLMSettings
from bot.telegram import commands
from tools.models import Dataset
from tools.store import Store

N = 5_000
SHIPPED = 28
MESSAGE_LIMIT = 4096
JUMPER = "co00000"  # 10% → 90% self-use inference in 2025: it passes thousands


@pytest.fixture(scope="module")
def crowd(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The shipped data plus N companies in 2024 and 2025, all but one unchanged."""
    store = Store.open(tmp_path_factory.mktemp("crowd") / "crowd.db")
    companies = []
    for i in range(N):
        own = 0.1 if i == 0 else 0.05 + (i * 37 % 80) / 100
        record = company(f"co{i:05d}", own, spread=0.04, period="2024")
        later = company(f"co{i:05d}", 0.9 if i == 0 else own, spread=0.04, period="2025")
        record["snapshots"] += later["snapshots"]
        companies.append(record)
    dataset = Dataset.model_validate({**BASE, "companies": companies})
    store.import_dataset(dataset, author="cli", source_name="crowd", source_hash="1")
    return store


@pytest.fixture
def served(crowd: Store, tmp_path: Path) -> Store:
    """A copy of the crowd for one bot run: a run keeps the update ids it has seen beside its
    database, and each fake server starts counting them afresh."""
    crowd.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the import's last rows are in its WAL
    shutil.copy(crowd.path, tmp_path / "served.db")
    return Store.open(tmp_path / "served.db", seed=False)


def more(text: str) -> int:
    """The count an answer says it left out ('…and 5018 more', '另有 5018 家')."""
    found = re.search(r"and (\d+) more|另有 (\d+) 家|另与 (\d+) 家", text)
    assert found, text
    return int(next(g for g in found.groups() if g))


QUESTIONS = {
    "Rank the companies": N + SHIPPED - 10,
    "给公司排名": N + SHIPPED - 10,
    "Tell me about Foobar Corp": N + SHIPPED - 30,
}


@pytest.mark.parametrize(("question", "left_out"), QUESTIONS.items())
async def test_a_free_question_over_5000_companies_is_one_message(
    telegram: FakeTelegram, served: Store, question: str, left_out: int
):
    user = telegram.user(4000, "Crowd", language_code="en")
    async with running_bot(telegram, served):
        telegram.user_says(user, question)
        got = await telegram.wait_quiet(user.id, quiet=1.0, timeout=120)
    for message in got:
        limit = CAPTION_LIMIT if message.photo is not None else MESSAGE_LIMIT
        assert utf16_len(message.text) <= limit, question
    said = "\n".join(m.text for m in got)
    assert more(said) == left_out, said
    if "rank" in question.lower() or "排名" in question:
        assert "/rank" in said  # where the rest is: the ranking's pages


async def test_history_over_5000_companies_names_the_least_sure_few(
    telegram: FakeTelegram, served: Store
):
    user = telegram.user(4001, "Crowd", language_code="en")
    async with running_bot(telegram, served):
        telegram.user_says(user, f"/history {JUMPER}")
        got = await telegram.wait_quiet(user.id, quiet=1.0, timeout=120)
    text = "\n".join(m.text for m in got)
    assert all(utf16_len(m.text) <= MESSAGE_LIMIT for m in got)
    line = next(x for x in text.split("\n") if "Confidence in the new order" in x)
    assert line.count("%") == 5 and more(line) > 1_000, line
    shown = [float(p) for p in re.findall(r"(\d+)% \(", line)]
    assert shown == sorted(shown)  # the least sure first: none left out is less sure


async def test_a_kind_list_over_5000_companies_names_30(crowd: Store):
    a = await answer("Which companies are self-users?", store=crowd, settings=LLMSettings())
    listed = a.text.split(": ", 1)[1]
    assert listed.count(", ") == 29 and more(a.text) > 1_000, a.text
    assert len(a.text) < 1_000


async def test_a_question_asked_again_over_the_same_data_is_not_ranked_again(crowd: Store):
    # every turn built the name resolver, read every company's snapshots for the periods
    # (7.5 s) and ranked the 5,028 companies again
    question = "Where does co01234 rank?"
    start = time.process_time()
    first = await answer(question, store=crowd, settings=LLMSettings())
    first_cpu = time.process_time() - start
    start = time.process_time()
    again = await answer(question, store=crowd, settings=LLMSettings())
    assert time.process_time() - start < 0.5 and first_cpu < 6
    assert again.text == first.text and "Co01234 ranks #" in first.text


@pytest.mark.parametrize(
    "command",
    [
        lambda s: commands.history(s, "en", [JUMPER]),
        lambda s: commands.compare(s, "en", ["co00001,", "co00002"]),
        lambda s: commands.whatif(s, "en", ["co00003", "external_supply_share=20%"]),
    ],
    ids=["history", "compare", "whatif"],
)
def test_a_company_asked_about_again_is_answered_from_what_was_kept(crowd: Store, command):
    # each ranks every company (per period and revision for a history): seconds at 5,000
    first = command(crowd)
    start = time.process_time()
    again = command(crowd)
    assert time.process_time() - start < 0.3 and again.html == first.html
