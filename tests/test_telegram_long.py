"""Issue 14 at any size: a 200-character name and long notes never push a caption past
Telegram's 1,024 visible characters, a message past 4,096, or a chart out of its picture."""

from __future__ import annotations

import warnings

import pytest
from conftest import company
from fake_telegram import CAPTION_LIMIT, FakeTelegram, parse_html, utf16_len
from telegram_harness import running_bot
from test_charts import png_size

from bot.telegram import commands
from tools.store import Store

NAME_EN = ("Extraordinarily Long Holdings " * 7)[:200]
NAME_ZH = ("超长名字控股集团有限公司" * 17)[:200]
NOTE = "A long analyst note on where this figure comes from and how sure it is. " * 40
MESSAGE_LIMIT = 4096


@pytest.fixture
def wordy(tmp_path, make_dataset) -> Store:
    """A company with a 200-character name in both languages and 2,900-character notes."""
    store = Store.open(tmp_path / "wordy.db", seed=False)
    long = company("wordy", 0.9, spread=0.05, aliases=["w" * 200])
    long["name"] = {"zh": NAME_ZH, "en": NAME_EN}
    snap = long["snapshots"][0]
    for group in ("allocation", "layer_mix"):
        for share in snap[group].values():
            share["note"] = NOTE
    snap["ai_capex"]["note"] = NOTE
    rows = [long, *(company(f"co{i:02d}", 0.2 + i / 100, spread=0.02) for i in range(30))]
    store.import_dataset(make_dataset(*rows), author="cli", source_name="1", source_hash="1")
    return store


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_charts_fit_a_200_character_name(wordy, lang, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "constrained_layout not applied": the plot collapsed
        replies = [commands.tiers(wordy, lang, ["wordy"]), commands.rank(wordy, lang, [])]
    for reply in replies:
        assert reply.chart is not None
        assert utf16_len(parse_html(reply.chart.caption)) <= CAPTION_LIMIT
        assert png_size(reply.chart.png)[0] == 1120
        (tmp_path / f"{reply.chart.key[:5]}-{lang}.png").write_bytes(reply.chart.png)


COMMANDS = ["/tiers wordy", "/company wordy", "/rank", "/history wordy", "/sources wordy", "/tiers"]


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
async def test_every_answer_fits_telegrams_limits(telegram: FakeTelegram, wordy, lang):
    user = telegram.user(3000, "Long", language_code=lang)
    answers = []
    async with running_bot(telegram, wordy):
        for text in COMMANDS:
            telegram.clear(user.id)
            telegram.user_says(user, text)
            answers.append(await telegram.wait_quiet(user.id, quiet=0.5))
    refused = [c for c in telegram.calls() if c.status != 200 and c.method != "getUpdates"]
    assert not refused, [(c.method, c.status) for c in refused]
    for text, got in zip(COMMANDS, answers, strict=True):
        assert not any("Sorry" in m.text or "抱歉" in m.text for m in got), text
        for message in got:
            limit = CAPTION_LIMIT if message.photo is not None else MESSAGE_LIMIT
            assert utf16_len(message.text) <= limit, text
            labels = [b["text"] for row in message.buttons for b in row]
            assert all(len(label) <= 64 for label in labels), (text, labels)
