"""The alert's text (issue 5): templates in zh/en, escaped Telegram HTML, within one message."""

from __future__ import annotations

from typing import Any

from fake_telegram import parse_html

from bot.alerts.message import render
from bot.text.markup import MESSAGE_LIMIT, size
from tools.events import AlertEvent, Confidence
from tools.history import InputChange

DEFAULT = "self_use_inference_share"


def event(kind: str = "order", **fields: Any) -> AlertEvent:
    values: dict[str, Any] = {
        "id": f"r7:{kind}:x",
        "revision": 7,
        "kind": kind,
        "metric": DEFAULT,
        "company": "x",
        "name": "X",
        "name_zh": "某公司",
        "old_rank": 3,
        "new_rank": 2,
        "total": 5,
        "old_value": 0.3,
        "new_value": 0.42,
        "old_period": "2025",
        "new_period": "2025",
        "old_archetype": "dual",
        "new_archetype": "dual",
        "currency": None,
        "changes": [InputChange(field="allocation.own_inference", old=0.3, new=0.42)],
        "confidence": [],
    }
    return AlertEvent(**(values | fields))


def test_names_and_values_are_escaped():
    text = render([event(name="R&D <Labs>")], "en")
    assert "<b>R&amp;D &lt;Labs&gt;</b> · 2025" in text
    parse_html(text)  # Telegram would take it


def test_a_newcomer_enters_without_a_list_of_inputs():
    changes = [InputChange(field="allocation.own_inference", old=None, new=0.9)]
    text = render([event(old_rank=None, old_value=None, changes=changes)], "en")
    assert "Enters the ranking by self-use inference share at 2 of 5, 42%" in text
    assert "Why: new in the data" in text


def test_a_metric_move_says_whether_the_rank_moved():
    same = render([event("metric", old_rank=2, new_rank=2)], "zh")
    assert "自用推理占比:30% → 42%,排名第 2 名不变" in same
    pushed = render([event("metric", old_rank=2, new_rank=3)], "en")
    assert "self-use inference share: 30% → 42%, rank 2 → 3" in pushed


def test_capex_changes_show_money_in_its_currency():
    changes = [InputChange(field="ai_capex", old=1e10, new=2e10)]
    text = render([event(currency="CNY", changes=changes)], "en")
    assert "Why: AI capex RMB 10.0bn → RMB 20.0bn" in text


def test_confidence_names_the_weakest_pairs_first():
    pairs = [
        Confidence(company=f"c{i}", name=f"C{i}", name_zh=f"C{i}", above=True, p=0.99 - i / 10)
        for i in range(5)
    ]
    text = render([event(confidence=pairs)], "en")
    assert "Now above C4: P = 59% (a lean)" in text
    assert "Now above C2: P = 79% (likely, not certain)" in text
    assert "C0" not in text and "…and 2 more, none less sure" in text


def test_an_unlikely_new_order_says_the_old_one_probably_holds():
    """A 9% chance is not a coin flip: the ladder's bottom rung, for a move."""
    pairs = [
        Confidence(company="c", name="C", name_zh="C", above=True, p=0.09),
        Confidence(company="d", name="D", name_zh="D", above=True, p=0.5),
    ]
    assert [c.level for c in pairs] == ["old_order_holds", "coin_flip"]
    en, zh = render([event(confidence=pairs)], "en"), render([event(confidence=pairs)], "zh")
    assert "Now above C: P = 9% (the old order probably still holds)" in en
    assert "Now above D: P = 50% (close to a coin flip)" in en
    assert "旧顺序大概率仍成立" in zh and "9%(接近抛硬币)" not in zh


def test_a_huge_change_still_fits_one_message():
    many = [
        event(company=f"c{i:04d}", name=f"Company {i}" * 5, new_rank=i, id=f"r7:order:c{i}")
        for i in range(1, 400)
    ]
    text = render(many, "zh")
    assert size(text) <= MESSAGE_LIMIT and "另有 389 家公司变化" in text
    parse_html(text)
