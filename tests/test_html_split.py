"""Splitting Telegram HTML under the length limits without breaking markup."""

from __future__ import annotations

import html

from fake_telegram import parse_html, utf16_len
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.text.markup import split, truncate

TAGS = ["b", "i", "code", "pre", "u", "s"]

words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=60)


@st.composite
def telegram_html(draw: st.DrawFn) -> str:
    """Lines of escaped text, some wrapped in (possibly multi-line) tags."""
    parts = []
    for _ in range(draw(st.integers(1, 60))):
        text = html.escape(draw(words), quote=False)
        tag = draw(st.sampled_from([*TAGS, None]))
        lines = "\n".join([text] * draw(st.integers(1, 3)))
        parts.append(f"<{tag}>{lines}</{tag}>" if tag else lines)
    return "\n".join(parts)


@settings(max_examples=150, deadline=None)
@given(telegram_html(), st.integers(40, 600))
def test_every_part_is_valid_telegram_html_under_the_limit(text: str, limit: int):
    parts = split(text, limit)
    for part in parts:
        assert utf16_len(parse_html(part)) <= limit
    joined = "".join(parse_html(p) for p in parts)
    assert "".join(joined.split()) == "".join(parse_html(text).split())  # nothing lost


def test_messages_break_at_lines_and_reopen_open_tags():
    text = "<pre>" + "\n".join(f"row {i:03}" for i in range(100)) + "</pre>"
    parts = split(text, 200)
    assert len(parts) > 1
    assert all(p.startswith("<pre>") and p.endswith("</pre>") for p in parts)
    assert all(parse_html(p).split("\n")[-1].startswith("row") for p in parts)


def test_a_single_huge_line_is_cut_outside_tags_and_entities():
    text = "<b>" + "&amp;" * 3000 + "</b>"
    parts = split(text, 4096)
    assert len(parts) == 1  # 3,000 visible characters fit
    parts = split('<a href="https://x.test">' + "x&lt;y " * 2000 + "</a>", 4096)
    assert len(parts) == 2  # 8,000 visible characters
    assert all(utf16_len(parse_html(p)) <= 4096 for p in parts)


def test_tag_only_leftovers_are_not_sent_as_empty_messages():
    assert split("<b>\n</b>\n\n") == []


def test_truncate_keeps_markup_whole_and_marks_the_cut():
    caption = "<b>" + "图" * 2000 + "</b>"
    short = truncate(caption, 1024)
    assert utf16_len(parse_html(short)) <= 1024 and short.endswith("…")
    assert truncate("<i>short</i>") == "<i>short</i>"
