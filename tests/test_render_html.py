"""Telegram HTML renderings: every dynamic string escaped, valid in both languages."""

from __future__ import annotations

import pytest
from conftest import company
from fake_telegram import parse_html

from bot.telegram import commands, pages
from bot.text import company as company_text
from bot.text import ranking as ranking_text
from bot.text.doc import html
from bot.text.markup import esc, split
from tools import breakdown, ranking
from tools.store import Store

HOSTILE = '<script>&amp; "Bob\'s" <b>Co</b> & Sons'


def hostile_store(store: Store, make_dataset) -> Store:
    """The shipped data plus a company whose every free-text field is hostile."""
    bad = company(
        "evil",
        0.5,
        0.1,
        name={"zh": HOSTILE, "en": HOSTILE},
        aliases=["<i>"],
        tickers=["<EV>"],
        description={"zh": HOSTILE, "en": HOSTILE},
    )
    bad["snapshots"][0]["allocation"]["own_inference"]["note"] = HOSTILE
    bad["snapshots"][0]["period_note"] = HOSTILE
    dataset = make_dataset(
        bad,
        sources=[
            {
                "id": "src",
                "title": HOSTILE,
                "publisher": HOSTILE,
                "kind": "analyst",
                "url": 'https://x.test/?a=1&b="2"',
            }
        ],
    )
    store.import_dataset(dataset, author="test", source_name="hostile", source_hash="x")
    return store


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("rank", []),
        ("rank", ["margin_position", "2025"]),
        ("tiers", ["evil"]),
        ("company", ["evil"]),
        ("company", []),
        ("compare", ["evil", "xiaomi"]),
        ("history", ["evil"]),
        ("whatif", ["evil", "own_inference=0.1"]),
        ("sources", []),
        ("sources", ["evil"]),
        ("methodology", []),
    ],
)
def test_every_view_is_valid_telegram_html(store, make_dataset, lang, command, args):
    reply = commands.COMMAND_VIEWS[command](hostile_store(store, make_dataset), lang, args)
    for part in split(reply.html):
        parse_html(part)  # raises on anything Telegram would refuse
    if reply.chart:
        parse_html(reply.chart.caption)
    if "evil" in args:
        assert HOSTILE in "".join(parse_html(p) for p in split(reply.html))


def test_escaping_is_exact(store):
    assert esc("a<b & c>d") == "a&lt;b &amp; c&gt;d"
    r = ranking.rank(store.universe())
    assert parse_html(html(ranking_text.ranking(r, "zh"))).startswith("按自用推理占比排名")


def test_start_and_help_name_every_command_in_both_languages():
    for lang in ("zh", "en"):
        text = parse_html(pages.start(lang, "inference_lens_bot"))
        assert all(f"/{c}" in text for c in pages.COMMANDS)
        assert "@inference_lens_bot" in parse_html(pages.help_text(lang, "inference_lens_bot"))


def test_tiers_marks_estimates_and_shows_the_period(store):
    b = breakdown.tiers(store.universe(), "xiaomi")
    text = parse_html(html(company_text.tiers(b, "en")))
    assert text.startswith(f"Xiaomi: four-layer breakdown ({b.period}) (estimate)")
