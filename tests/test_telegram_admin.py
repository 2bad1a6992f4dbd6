"""End to end: an admin uploads a data file with the caption /import; nobody else can."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import yaml
from fake_telegram import FakeTelegram, User
from telegram.ext import Application
from telegram_harness import ADMIN_ID, running_bot

from tools.ranking import rank
from tools.store import Store


@pytest.fixture
async def bot(telegram: FakeTelegram, store: Store) -> AsyncIterator[Application]:
    async with running_bot(telegram, store) as app:
        yield app


@pytest.fixture
def admin(telegram: FakeTelegram) -> User:
    return telegram.user(ADMIN_ID, "Admin", language_code="en")


def alibaba_as_self_user(store: Store) -> bytes:
    """Alibaba's latest snapshot with its external compute moved to its own inference."""
    data = store.export().model_dump(mode="json", exclude_none=True)
    company = next(c for c in data["companies"] if c["id"] == "alibaba")
    allocation = company["snapshots"][-1]["allocation"]
    moved = allocation["external_iaas"]["value"] + allocation["external_maas"]["value"]
    allocation["own_inference"]["value"] = round(allocation["own_inference"]["value"] + moved, 4)
    for key in ("external_iaas", "external_maas"):
        allocation[key]["value"] = 0.0
    for share in allocation.values():
        share.pop("low", None)
        share.pop("high", None)
    return yaml.safe_dump({"companies": [company]}, allow_unicode=True).encode()


def rank_of(store: Store, company: str) -> int:
    """The company's rank in the shipped data before the upload (it moves as companies are added)."""
    return next(r.rank for r in rank(store.universe()).rows if r.company == company)


async def upload(tg: FakeTelegram, user: User, content: bytes, name: str, caption: str = "/import"):
    tg.clear(user.id)
    tg.user_sends_document(user, content, name, caption)
    return await tg.wait_quiet(user.id)


async def test_admin_import_reports_the_ranking_changes(telegram, bot, store, admin):
    before, was = len(store.revisions()), rank_of(store, "alibaba")
    (reply,) = await upload(telegram, admin, alibaba_as_self_user(store), "alibaba.yaml")
    assert reply.text.startswith(f"Imported as revision {before + 1}:")
    assert "snapshots alibaba/2026" in reply.text
    assert "Ranking changes:" in reply.text and f"Alibaba: rank {was} → " in reply.text
    revision = store.revisions()[-1]
    assert (revision.author, revision.source_name) == (str(ADMIN_ID), "alibaba.yaml")
    (same,) = await upload(telegram, admin, alibaba_as_self_user(store), "alibaba.yaml")
    assert same.text == "Identical to the current data; no revision created."


async def test_the_ranking_shows_the_import_at_once(telegram, bot, store, admin):
    await upload(telegram, admin, alibaba_as_self_user(store), "alibaba.yaml")
    telegram.clear(admin.id)
    telegram.user_says(admin, "/tiers alibaba")
    _, tiers = await telegram.wait_for(admin.id, 2)
    assert "external supply share: 0%" in tiers.text


async def test_non_admins_are_refused_and_nothing_changes(telegram, bot, store):
    mallory = telegram.user(666, language_code="zh")
    before = store.revisions()
    (reply,) = await upload(telegram, mallory, alibaba_as_self_user(store), "alibaba.yaml")
    assert reply.text == "只有管理员可以导入数据;数据库未改动。"
    assert store.revisions() == before
    assert not telegram.calls("getFile")  # the file was never even fetched
    telegram.clear(mallory.id)
    telegram.user_says(mallory, "/import")
    (refused,) = await telegram.wait_for(mallory.id, 1)
    assert refused.text == reply.text


async def test_a_bad_file_is_refused_with_its_problems(telegram, bot, store, admin):
    before = store.revisions()
    broken = alibaba_as_self_user(store).replace(b"own_inference:", b"own_inferense:", 1)
    (reply,) = await upload(telegram, admin, broken, "alibaba.yaml")
    assert reply.text.startswith("Import refused; the database is unchanged. Problems:")
    assert "alibaba.yaml:" in reply.text and "own_inferense" in reply.text
    assert "/tmp" not in reply.text  # problems name the file as the admin sent it
    (syntax,) = await upload(telegram, admin, b"companies: [\n  - id: x\n    : :\n", "x.yaml")
    assert "malformed YAML" in syntax.text
    assert store.revisions() == before


async def test_only_yaml_and_json_files_are_taken(telegram, bot, store, admin):
    (reply,) = await upload(telegram, admin, b"hello", "notes.txt")
    assert reply.text.startswith("Only .yaml, .yml or .json files up to 1000 KB")
    (hint,) = await upload(telegram, admin, b"{}", "data.json", caption="look at this")
    assert hint.text.startswith("I can only read text")  # a document without /import
    telegram.clear(admin.id)
    telegram.user_says(admin, "/import")
    (how,) = await telegram.wait_for(admin.id, 1)
    assert how.text.startswith("Send a YAML or JSON data file as a document")


async def test_admin_import_in_chinese(telegram, bot, store):
    admin = telegram.user(ADMIN_ID, "管理员", language_code="zh-hans")
    was = rank_of(store, "alibaba")
    (reply,) = await upload(telegram, admin, alibaba_as_self_user(store), "alibaba.yaml")
    assert reply.text.startswith("已导入,修订号")
    assert "排名变化:" in reply.text and f"阿里巴巴:排名 {was} → " in reply.text
