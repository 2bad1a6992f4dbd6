"""End to end: the real bot polls a fake Telegram server; users get answers in zh and en."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fake_telegram import CAPTION_LIMIT, FakeTelegram, Sent, User, utf16_len
from telegram.ext import Application
from telegram_harness import running_bot, until

from bot.alerts import subscriptions
from bot.telegram import navigation, users
from tools.store import Store

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def bot(telegram: FakeTelegram, store: Store) -> AsyncIterator[Application]:
    async with running_bot(telegram, store) as app:
        yield app


@pytest.fixture
def en(telegram: FakeTelegram) -> User:
    return telegram.user(1001, "Alice", language_code="en")


@pytest.fixture
def zh(telegram: FakeTelegram) -> User:
    return telegram.user(1002, "小王", language_code="zh-hans")


async def ask(tg: FakeTelegram, user: User, text: str, count: int = 1) -> list[Sent]:
    """Say something and return the first `count` messages of the answer."""
    tg.clear(user.id)
    tg.user_says(user, text)
    return await tg.wait_for(user.id, count)


async def chart_answer(tg: FakeTelegram, user: User, text: str) -> tuple[Sent, Sent]:
    """A chart answer: (the photo, the message with the whole text and the buttons) — the
    same message when the text fits the photo's caption, else the photo then one text."""
    got = await ask_all(tg, user, text)
    assert got[0].photo is not None and got[0].photo.startswith(PNG)
    assert len(got) <= 2, [g.text[:40] for g in got]
    if len(got) == 1:
        assert got[0].buttons
    else:
        assert not got[0].buttons and got[1].photo is None
    return got[0], got[-1]


async def ask_all(tg: FakeTelegram, user: User, text: str) -> list[Sent]:
    """Say something and return every message of the answer (it may be split)."""
    tg.clear(user.id)
    tg.user_says(user, text)
    return await tg.wait_quiet(user.id)


async def test_start_and_help_in_the_users_language(telegram, bot, en, zh):
    (hello,) = await ask(telegram, en, "/start")
    assert "Inference Lens" in hello.text
    assert "overtaking those that sell AI compute" in hello.text
    assert "/tiers" in hello.text and "/methodology" in hello.text
    (nihao,) = await ask(telegram, zh, "/start")
    assert "用 AI 做自己生意的公司" in nihao.text
    assert "四层拆分" in nihao.text
    (help_zh,) = await ask(telegram, zh, "/help")
    assert "命令" in help_zh.text and "/tiers 小米" in help_zh.text


async def test_commands_menu_is_published_in_both_languages(telegram, bot):
    assert {c["command"] for c in telegram.commands[None]} >= {"rank", "tiers", "lang"}
    zh_rank = next(c for c in telegram.commands["zh"] if c["command"] == "rank")
    assert "排名" in zh_rank["description"]


async def test_lang_switches_and_is_remembered(telegram, bot, store, en):
    (ok,) = await ask(telegram, en, "/lang zh")
    assert ok.text == "好的,之后我用中文回答。"
    assert users.stored_lang(store, en.id) == "zh"
    _, ranking = await chart_answer(telegram, en, "/rank")
    assert ranking.text.startswith("按自用推理占比排名")
    (usage,) = await ask(telegram, en, "/lang fr")
    assert "/lang zh" in usage.text


@pytest.mark.parametrize(
    ("user_fixture", "title", "archetype"),
    [
        ("en", "Ranking by self-use inference share", None),  # its short form: see below
        ("zh", "按自用推理占比排名", "重度用水的内驱型"),
    ],
)
async def test_rank_sends_a_chart_then_the_ranking(
    telegram, bot, request, user_fixture, title, archetype
):
    """One message: the Chinese page fits a caption whole; the English one in its short form,
    without what the chart shows (archetypes by colour, the samples behind the whiskers)."""
    user = request.getfixturevalue(user_fixture)
    chart, ranking = await chart_answer(telegram, user, "/rank")
    assert chart is ranking and utf16_len(chart.caption) <= CAPTION_LIMIT
    assert ranking.text.startswith(title)
    first = ranking.text.splitlines()[2]
    assert first.startswith("1. ") and "p10–p90" in first and "%" in first
    assert "2026" in first  # each figure with its period
    assert "*" in first  # estimates are marked
    if archetype is None:
        assert "self-user" not in ranking.text and "* marks estimates" in ranking.text
    else:
        assert archetype in ranking.text and "(500次抽样" in ranking.text
    assert ranking.text.endswith("page 1 of 3") or ranking.text.endswith("第 1/3 页")
    data = ranking.button_data()
    assert data[:3] == [
        "rank:self_use_inference_share:-:-:3",
        "noop",
        "rank:self_use_inference_share:-:-:2",
    ]
    assert "sub::0" in data and all(len(d.encode()) <= 64 for d in data)


async def test_rank_by_another_metric_named_in_either_language(telegram, bot, en, zh):
    _, ranking = await chart_answer(telegram, en, "/rank external_supply_share")
    assert ranking.text.startswith("Ranking by external supply share")
    _, ranking = await chart_answer(telegram, zh, "/rank 对外算力占比")
    assert ranking.text.startswith("按对外算力占比排名")
    (unknown,) = await ask(telegram, en, "/rank happiness")
    assert "No metric called 'happiness'" in unknown.text


@pytest.mark.parametrize("name", ["小米", "xiaomi", "1810.HK", "1810", "ＸＩＡＯＭＩ"])
async def test_tiers_finds_a_company_by_any_name(telegram, bot, en, name):
    chart, tiers = await chart_answer(telegram, en, f"/tiers {name}")
    assert chart.caption.startswith("Xiaomi: four-layer breakdown (2026)")
    assert "edge inference: 6" in tiers.text
    assert "Rule that fired: own inference" in tiers.text
    assert "Sources" in tiers.text
    k = navigation.key("xiaomi")
    assert tiers.button_data() == [
        f"history:{k}",
        f"company:{k}",
        f"sources:{k}",
        "rank:self_use_inference_share:-:-:1",
        f"sub:{k}:0",
    ]


async def test_tiers_in_chinese(telegram, bot, zh):
    chart, tiers = await chart_answer(telegram, zh, "/tiers 小米")
    assert chart is tiers  # the whole answer fits the caption: one message
    assert chart.caption.startswith("小米 四层拆分(2026)")
    assert "边缘推理" in tiers.text and "触发规则" in tiers.text
    labels = [b["text"] for row in tiers.buttons for b in row]
    assert labels == ["🕘 历史", "ℹ️ 资料", "📚 来源", "🏆 排名", "🔔 订阅"]


async def test_unknown_company_gets_suggestions_as_buttons(telegram, bot, en):
    (reply,) = await ask(telegram, en, "/tiers xiaomo")
    assert reply.text == "No company called 'xiaomo'. Did you mean: Xiaomi?"
    assert reply.button_data() == [f"tiers:{navigation.key('xiaomi')}"]
    telegram.clear(en.id)
    telegram.user_taps(en, reply)
    _, tiers = await telegram.wait_quiet(en.id)
    assert tiers.text.startswith("Xiaomi: four-layer breakdown")
    assert telegram.calls("answerCallbackQuery")


async def test_tiers_without_a_company_offers_every_company(telegram, bot, zh):
    (reply,) = await ask(telegram, zh, "/tiers")
    assert "/tiers" in reply.text and "排名靠前的在前" in reply.text
    data = reply.button_data()
    assert len(data) == 13 and data[-3:] == ["pick:tiers:3", "noop", "pick:tiers:2"]
    telegram.user_taps(zh, reply, "pick:tiers:3")
    await until(lambda: telegram.current(reply).method == "editMessageReplyMarkup", timeout=5)
    last_page = telegram.current(reply).button_data()
    assert f"tiers:{navigation.key('xiaomi')}" in data + last_page


async def test_a_period_can_be_named(telegram, bot, en):
    chart, _ = await chart_answer(telegram, en, "/tiers 1810 2024")
    assert chart.caption.startswith("Xiaomi: four-layer breakdown (2024)")
    (missing,) = await ask(telegram, en, "/tiers xiaomi 2019")
    assert missing.text.startswith("Error: Xiaomi has no data for 2019")


async def test_company_profile_and_list(telegram, bot, en, zh):
    (profile,) = await ask(telegram, en, "/company 1810.HK")
    assert profile.text.startswith("Xiaomi (1810.HK")
    assert "AI capex:" in profile.text and "Compute allocation (2026)" in profile.text
    assert "* marks estimates" in profile.text
    (listing,) = await ask(telegram, zh, "/company")
    assert "/company" in listing.text
    labels = [b["text"] for row in listing.buttons for b in row]
    assert "字节跳动" in labels  # the top of the ranking first
    assert f"company:{navigation.key('bytedance')}" in listing.button_data()


async def test_compare_two_companies(telegram, bot, zh):
    (reply,) = await ask(telegram, zh, "/compare 腾讯 阿里巴巴")
    assert reply.text.startswith("对比:自用推理占比")
    assert "P(腾讯 高于 阿里巴巴)" in reply.text
    (usage,) = await ask(telegram, zh, "/compare 腾讯")
    assert "用法" in usage.text


async def test_history(telegram, bot, en):
    (reply,) = await ask(telegram, en, "/history baidu")
    assert reply.text.startswith("Baidu history: self-use inference share")
    assert "2024 · rank" in reply.text and "2026 · rank" in reply.text
    assert "Changes between periods" in reply.text


async def test_whatif(telegram, bot, en, zh):
    (reply,) = await ask(telegram, en, "/whatif alibaba external_supply_share=20%")
    assert reply.text.startswith("What-if: Alibaba")
    assert "Baseline · rank" in reply.text and "Scenario · rank" in reply.text
    assert "nothing was written" in reply.text
    (bad,) = await ask(telegram, zh, "/whatif 阿里巴巴 own_inference=abc")
    assert bad.text.startswith("错误:") and "abc" in bad.text
    (usage,) = await ask(telegram, zh, "/whatif 阿里巴巴")
    assert "用法" in usage.text


async def test_sources_and_methodology(telegram, bot, en, zh):
    (first,) = await ask_all(telegram, en, "/sources")  # one page, not 27,000 characters
    assert first.text.startswith("All sources (") and "page 1 of " in first.text
    telegram.user_taps(en, first, first.button_data()[2])
    await until(lambda: telegram.current(first).method == "editMessageText", timeout=5)
    assert "page 2 of " in telegram.current(first).text
    (cited,) = await ask(telegram, zh, "/sources 小米")
    assert cited.text.startswith("小米 引用的来源(2026)")
    (method,) = await ask(telegram, en, "/methodology")
    assert "own_inference / (own_inference + external_maas)" in method.text
    assert "supplier: external supply share ≥ 50%" in method.text
    assert "500 samples with fixed seed" in method.text
    (method_zh,) = await ask(telegram, zh, "/methodology")
    assert "类型规则" in method_zh.text and "算力租赁" in method_zh.text


async def test_buttons_open_history_and_profile(telegram, bot, en):
    k = navigation.key("meituan")
    photo, tiers = await chart_answer(telegram, en, "/tiers meituan")
    telegram.clear(en.id)
    telegram.user_taps(en, tiers, f"history:{k}")
    (history,) = await telegram.wait_for(en.id, 1)
    assert history.method == "editMessageText" and history.message_id == tiers.message_id
    assert history.text.startswith("Meituan history")
    telegram.clear(en.id)
    telegram.user_taps(en, history, f"tiers:{k}")  # the previous view, one tap away
    (edit,) = await telegram.wait_for(en.id, 1)  # the photo above is the same chart
    assert edit.method == "editMessageText"
    assert telegram.current(tiers).text.startswith("Meituan: four-layer breakdown")
    assert telegram.current(photo).photo.startswith(PNG)


async def test_subscribe_button_and_commands(telegram, bot, store, en, zh):
    (tiers,) = await ask_all(telegram, zh, "/tiers 小米")
    sub = f"sub:{navigation.key('xiaomi')}:0"
    telegram.user_taps(zh, tiers, sub)
    await until(lambda: telegram.calls("answerCallbackQuery"), timeout=5)
    (sub,) = subscriptions.of_chat(store, zh.id)
    assert (sub.company, sub.metric, sub.lang) == ("xiaomi", "self_use_inference_share", "zh")
    toast = telegram.calls("answerCallbackQuery")[-1].params["text"]
    assert toast == "已订阅:小米的排名或类型变化时通知你。"
    await until(lambda: telegram.current(tiers).method == "editMessageReplyMarkup", timeout=5)
    flipped = telegram.current(tiers)
    unsub = f"unsub:{navigation.key('xiaomi')}:0"
    assert unsub in flipped.button_data() and "🔕 退订" in str(flipped.buttons)
    telegram.user_taps(zh, flipped, unsub)
    await until(lambda: not subscriptions.of_chat(store, zh.id), timeout=5)

    (reply,) = await ask(telegram, en, "/subscribe")
    assert reply.text.startswith("Subscribed: I'll tell you when the ranking")
    (again,) = await ask(telegram, en, "/subscribe")
    assert again.text == "You were already subscribed to that."
    await ask(telegram, en, "/subscribe bytedance")
    (listing,) = await ask(telegram, en, "/subscriptions")
    assert "the whole ranking (self-use inference share)" in listing.text
    assert "ByteDance (self-use inference share)" in listing.text
    (gone,) = await ask(telegram, en, "/unsubscribe bytedance")
    assert gone.text == "Removed 1 subscription."
    (all_gone,) = await ask(telegram, en, "/unsubscribe")
    assert all_gone.text == "Removed 1 subscription."
    (empty,) = await ask(telegram, en, "/subscriptions")
    assert empty.text.startswith("No subscriptions yet")


async def test_changing_language_updates_the_chats_subscriptions(telegram, bot, store, en):
    await ask(telegram, en, "/subscribe")
    await ask(telegram, en, "/lang zh")
    assert [s.lang for s in subscriptions.of_chat(store, en.id)] == ["zh"]


async def test_unknown_command_points_to_help(telegram, bot, en):
    (reply,) = await ask(telegram, en, "/frobnicate")
    assert "/help" in reply.text


async def test_subscribing_to_a_misspelt_company_offers_the_right_one(telegram, bot, store, en):
    (reply,) = await ask(telegram, en, "/subscribe xiaomo")
    assert reply.button_data() == [f"sub:{navigation.key('xiaomi')}"]
    telegram.user_taps(en, reply)
    await until(
        lambda: telegram.current(reply).method == "editMessageReplyMarkup", timeout=5
    )  # 🔕 now
    assert [s.company for s in subscriptions.of_chat(store, en.id)] == ["xiaomi"]
    await ask(telegram, en, "/subscribe")
    (gone,) = await ask(telegram, en, "/unsubscribe ranking")
    assert gone.text == "Removed 1 subscription."
    assert [s.company for s in subscriptions.of_chat(store, en.id)] == ["xiaomi"]
    (no_buttons,) = await ask(telegram, en, "/compare xiaomo tencent")
    assert no_buttons.text.startswith("No company called 'xiaomo'") and not no_buttons.buttons
