"""End to end, issue 13: pages within Telegram's limits, edits in place, long company ids,
subscriptions in groups, deep links, edited questions, the group greeting, inline mode and
the bot's profile texts — against a fake Bot API as strict as Telegram."""

from __future__ import annotations

import asyncio
import struct
import threading
import time
import zlib

import pytest
from conftest import company
from fake_telegram import (
    CAPTION_LIMIT,
    NOT_MODIFIED,
    ApiError,
    FakeTelegram,
    Sent,
    User,
    parse_html,
    utf16_len,
)
from telegram_harness import StandInAnswer, running_bot, until

from bot.alerts import subscriptions
from bot.settings import LLMSettings
from bot.telegram import navigation
from tools.store import Store

LONG_ID = "a-company-with-a-very-long-identifier-40"  # 40 characters
PNG = b"\x89PNG\r\n\x1a\n"


def png(width: int, height: int) -> bytes:
    """A valid (blank, grey) PNG of that size."""
    row = b"\x00" + b"\x80" * width
    body = zlib.compress(row * height)

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return PNG + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


@pytest.fixture
def many(tmp_path, make_dataset) -> Store:
    """214 companies, one with a 40-character id."""
    store = Store.open(tmp_path / "many.db", seed=False)
    rows = [company(f"co{i:03d}", 0.20 + i / 1000, spread=0.01) for i in range(213)]
    rows.append(company(LONG_ID, 0.9, spread=0.01, region="CN"))
    store.import_dataset(make_dataset(*rows), author="cli", source_name="1", source_hash="1")
    return store


async def said(tg: FakeTelegram, user: User, text: str, **kw) -> list[Sent]:
    chat = kw.get("chat_id") or user.id
    tg.clear(chat)
    tg.user_says(user, text, **kw)
    return await tg.wait_quiet(chat)


# --- the fake counts and refuses as Telegram does ---


def test_visible_length_is_counted_after_parsing_in_utf16_units():
    html = "<b>" + "&amp;" * 10 + "</b>" + "😀"  # 10 visible '&' and one emoji of 2 units
    assert utf16_len(parse_html(html)) == 12
    tg = FakeTelegram()
    tg._chats[1] = {"id": 1, "type": "private"}
    fits = "<i>" + "&lt;" * CAPTION_LIMIT + "</i>"  # 4,103 characters of HTML, 1,024 visible
    tg._api_sendPhoto({"chat_id": 1, "photo": png(10, 10), "caption": fits, "parse_mode": "HTML"})
    with pytest.raises(ApiError, match="caption is too long"):
        over = fits + "😀"
        tg._api_sendPhoto(
            {"chat_id": 1, "photo": png(10, 10), "caption": over, "parse_mode": "HTML"}
        )
    with pytest.raises(ApiError, match="BUTTON_DATA_INVALID"):
        markup = {"inline_keyboard": [[{"text": "x", "callback_data": "é" * 33}]]}
        tg._api_sendMessage({"chat_id": 1, "text": "x", "reply_markup": markup})


@pytest.mark.parametrize("size", [(1120, 17424), (400, 8001), (100, 2001)])
def test_photos_over_telegrams_limits_are_refused(size):
    tg = FakeTelegram()
    tg._chats[1] = {"id": 1, "type": "private"}
    with pytest.raises(ApiError, match="PHOTO_INVALID_DIMENSIONS"):
        tg._api_sendPhoto({"chat_id": 1, "photo": png(*size)})


def test_edits_follow_telegrams_rules():
    tg = FakeTelegram()
    tg._chats[1] = {"id": 1, "type": "private"}
    text = tg._api_sendMessage({"chat_id": 1, "text": "one"})["message_id"]
    photo = tg._api_sendPhoto({"chat_id": 1, "photo": png(10, 10), "caption": "c"})["message_id"]
    with pytest.raises(ApiError) as same:
        tg._api_editMessageText({"chat_id": 1, "message_id": text, "text": "one"})
    assert same.value.description == NOT_MODIFIED
    tg._api_editMessageText({"chat_id": 1, "message_id": text, "text": "two"})
    with pytest.raises(ApiError, match="no text in the message"):
        tg._api_editMessageText({"chat_id": 1, "message_id": photo, "text": "x"})
    with pytest.raises(ApiError, match="no media in the message"):
        media = {"type": "photo", "media": "attach://p"}
        tg._api_editMessageMedia({"chat_id": 1, "message_id": text, "media": media, "p": png(9, 9)})
    with pytest.raises(ApiError, match="message to edit not found"):
        tg._api_editMessageCaption({"chat_id": 1, "message_id": 999, "caption": "x"})


# --- the bot ---


async def test_rank_of_214_companies_is_paged_and_every_chart_fits(telegram, many):
    reader = telegram.user(5001)
    async with running_bot(telegram, many):
        got = await said(telegram, reader, "/rank")
        assert len(got) <= 2 and got[0].photo.startswith(PNG)
        ranking = got[-1]
        assert ranking.text.count("\n1") >= 1 and "page 1 of 22" in ranking.text
        first = ranking.text
        telegram.clear(reader.id)
        telegram.user_taps(reader, ranking, ranking.button_data()[2])  # ▸
        await until(lambda: "page 2 of 22" in telegram.current(ranking).text)
        assert telegram.current(ranking).message_id == ranking.message_id
        assert "11. " in telegram.current(ranking).text and first != telegram.current(ranking).text
        # the region toggle: CN only has one company
        region = next(d for d in telegram.current(ranking).button_data() if d.endswith(":CN:1"))
        telegram.user_taps(reader, telegram.current(ranking), region)
        await until(lambda: "page" not in telegram.current(ranking).text)
        assert "1. " in telegram.current(ranking).text
    assert not [c for c in telegram.calls() if c.status != 200 and c.method != "getUpdates"]


async def test_a_40_character_company_id_fits_in_every_button(telegram, many):
    reader = telegram.user(5002)
    async with running_bot(telegram, many):
        got = await said(telegram, reader, f"/tiers {LONG_ID}")
        answer = got[-1]
        assert all(len(d.encode()) <= 64 for d in answer.button_data())
        telegram.clear(reader.id)
        telegram.user_taps(reader, answer, f"history:{navigation.key(LONG_ID)}")
        # a photo cannot become a text: the history comes as a new message
        (history,) = await telegram.wait_quiet(reader.id)
        assert "history" in history.text.lower()
        telegram.user_taps(reader, history, f"sub:{navigation.key(LONG_ID)}:0")
        await until(lambda: subscriptions.of_chat(many, reader.id))
        assert subscriptions.of_chat(many, reader.id)[0].company == LONG_ID


async def test_in_a_group_only_administrators_change_subscriptions(telegram, store):
    boss, member = telegram.user(5101, "Boss"), telegram.user(5102, "Member")
    group = telegram.group(-5100, admins=(boss,))
    async with running_bot(telegram, store):
        (refused,) = await said(telegram, member, "/subscribe@inference_lens_bot", chat_id=group)
        assert "administrators" in refused.text
        assert not subscriptions.of_chat(store, group)
        (ok,) = await said(telegram, boss, "/subscribe@inference_lens_bot", chat_id=group)
        assert ok.text.startswith("Subscribed")
        assert telegram.calls("getChatMember")


async def test_deep_link_opens_the_view(telegram, store):
    reader = telegram.user(5201)
    async with running_bot(telegram, store):
        got = await said(telegram, reader, "/start tiers_xiaomi")
        assert got[0].photo and got[0].caption.startswith("Xiaomi: four-layer breakdown")
        (hello,) = await said(telegram, reader, "/start")
        assert "Inference Lens" in hello.text and hello.button_data()[1] == "pick:tiers:1"


async def test_an_edited_question_is_answered_again(telegram, store):
    reader = telegram.user(5301)
    async with running_bot(telegram, store):
        telegram.clear(reader.id)
        update_id = telegram.user_says(reader, "/history baidu")
        await telegram.wait_quiet(reader.id)
        telegram.clear(reader.id)
        telegram.user_edits(reader, update_id, "/history xiaomi")
        (again,) = await telegram.wait_quiet(reader.id)
        assert again.text.startswith("Xiaomi history")


async def test_added_to_a_group_it_says_hello_with_buttons(telegram, store):
    boss = telegram.user(5401)
    group = telegram.group(-5400, admins=(boss,))
    async with running_bot(telegram, store):
        telegram.bot_added(boss, group)
        (hello,) = await telegram.wait_quiet(group)
        assert hello.text.startswith("Hello! I'm Inference Lens") and hello.buttons


async def test_profile_texts_are_set_in_both_languages(telegram, store):
    async with running_bot(telegram, store):
        assert "which companies use AI" in telegram.descriptions[("description", None)]
        assert "推理自用" in telegram.descriptions[("short_description", "zh")]


async def test_inline_mode_offers_the_tier_card_ranking_and_profile(telegram, store):
    reader = telegram.user(5501)
    async with running_bot(telegram, store):
        await said(telegram, reader, "/tiers xiaomi")  # Telegram now has the chart
        query = telegram.user_inline(reader, "xiaomi")
        await until(lambda: query in telegram.inline_answers)
        results = telegram.inline_answers[query]
        assert [r["type"] for r in results] == ["photo", "article", "article"]
        assert results[0]["caption"].startswith("<b>Xiaomi: four-layer breakdown")
        link = results[0]["reply_markup"]["inline_keyboard"][0][0]["url"]
        assert link == "https://t.me/inference_lens_bot?start=tiers_xiaomi"
        other = telegram.user_inline(reader, "")
        await until(lambda: other in telegram.inline_answers)
        assert [r["type"] for r in telegram.inline_answers[other]] == ["article"]


def test_a_warm_up_chart_never_holds_the_lock_a_live_one_waits_on(store):
    """The warm-up draws in a worker process: with the drawing lock taken (a live chart being
    drawn), a warm-up chart is still drawn, and a live one is not kept waiting by it."""
    from bot.telegram import charts
    from tools import ranking

    r = ranking.rank(store.universe())
    r = r.model_copy(update={"rows": r.rows[:3]})
    with charts._draw_lock, charts.background():  # while a live chart is being drawn
        warm = charts.ranking_chart(r, "en")
    assert warm.startswith(PNG)
    done = threading.Event()

    def warm_up() -> None:
        with charts.background():
            charts.ranking_chart(r, "zh")
        done.set()

    thread = threading.Thread(target=warm_up)
    thread.start()
    held = False
    while not done.is_set():
        held = held or charts._draw_lock.locked()
        time.sleep(0.001)
    thread.join()
    assert not held
    assert charts.ranking_chart(r, "en") == warm  # the same picture, drawn here


async def test_a_free_text_answer_about_one_company_carries_its_chart_and_buttons(telegram, store):
    reader = telegram.user(5601)
    async with running_bot(telegram, store):  # the real agent, offline (no LLM configured)
        got = await said(telegram, reader, "小米的四层拆分")
        assert got[0].photo is not None and got[0].photo.startswith(PNG)
        assert f"history:{navigation.key('xiaomi')}" in got[-1].button_data()
        link = "https://t.me/inference_lens_bot?start="
        assert f'<a href="{link}tiers_xiaomi">' in got[-1].html  # share: the same view
        ranking = await said(telegram, reader, "rank companies")
        assert ranking[0].photo is not None and "rank:" in " ".join(ranking[-1].button_data())
        assert f'<a href="{link}rank">' in ranking[-1].html
        opened = await said(telegram, reader, "/start rank")  # where the link leads
        assert opened[0].photo is not None and "rank:" in " ".join(opened[-1].button_data())


async def test_each_subscription_can_be_removed_from_the_list(telegram, store):
    reader = telegram.user(5701)
    async with running_bot(telegram, store):
        await said(telegram, reader, "/subscribe")
        await said(telegram, reader, "/subscribe xiaomi")
        (listing,) = await said(telegram, reader, "/subscriptions")
        rows = listing.button_data()
        assert rows == ["rm::0", f"rm:{navigation.key('xiaomi')}:0"]
        telegram.user_taps(reader, listing, rows[1])
        await until(lambda: telegram.current(listing).method == "editMessageText")
        assert [s.company for s in subscriptions.of_chat(store, reader.id)] == [None]
        assert telegram.current(listing).button_data() == ["rm::0"]
        assert "Xiaomi" not in telegram.current(listing).text


async def test_what_the_chat_follows_shows_as_unsubscribe(telegram, store):
    reader = telegram.user(5801)
    async with running_bot(telegram, store):
        await said(telegram, reader, "/subscribe xiaomi")
        got = await said(telegram, reader, "/tiers xiaomi")
        k = navigation.key("xiaomi")
        assert f"unsub:{k}:0" in got[-1].button_data()
        assert f"sub:{k}:0" not in got[-1].button_data()


class SlowAgent:
    """An LLM answer that takes a moment, so the draft shows."""

    async def __call__(self, question: str, **kwargs) -> StandInAnswer:
        await asyncio.sleep(0.5)
        return StandInAnswer("Xiaomi ranks 4th with 72%.", mode="llm")


async def test_a_private_llm_answer_streams_a_draft_without_figures(telegram, store):
    reader, other = telegram.user(5901), telegram.user(5902)
    group = telegram.group(-5900)
    llm = LLMSettings(base_url="http://127.0.0.1:9/v1")  # an LLM is configured
    async with running_bot(telegram, store, answer=SlowAgent(), llm=llm):
        (final,) = await said(telegram, reader, "how is xiaomi doing?")
        assert final.text.startswith("Xiaomi ranks 4th")
        drafts = telegram.drafts[reader.id]
        assert drafts == ["🔎 Looking up the data…"]
        assert not any(ch.isdigit() for d in drafts for ch in d)
        await said(telegram, other, "@inference_lens_bot how is xiaomi?", chat_id=group)
        assert group not in telegram.drafts and telegram.calls("sendChatAction")


async def test_a_revision_imported_elsewhere_is_warmed(telegram, many, make_dataset):
    async with running_bot(telegram, many, warm_up=True) as app:
        services = app.bot_data["services"]
        await until(lambda: services.warmed == many.latest_revision())
        data = make_dataset(company("co000", 0.5, spread=0.01))
        await asyncio.to_thread(
            many.import_dataset, data, author="cli", source_name="2", source_hash="2"
        )
        await until(lambda: services.warmed == many.latest_revision(), timeout=15)


async def test_an_english_ranking_page_is_one_message(telegram, store):
    """Ten English rows with their archetypes pass 1,024 visible characters: the caption leaves
    out what the chart shows (archetypes by colour) and says what * means in a few words."""
    reader = telegram.user(5503, language_code="en")
    async with running_bot(telegram, store):
        (page,) = await said(telegram, reader, "/rank")
        assert page.photo and page.text.count("Rank range") == 10 and "page 1 of 3" in page.text
        assert "self-user" not in page.text and "* marks estimates" in page.text
        assert page.button_data()
