"""bot/agent/answer_shape.py: what small models write instead of an answer (issue 15)."""

from __future__ import annotations

import pytest

from bot.agent.answer_shape import unusable

NAMES = ["Xiaomi", "小米", "Alibaba", "阿里巴巴", "阿里", "Tencent", "腾讯"]
RANK_Q = "Where does Xiaomi rank on self-use inference?"
ZH_Q = "小米的自用推理占比排第几?"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('<tool_call>\n{"name": "rank", "arguments": {"top": 5}}\n</tool_call>', "tool_syntax"),
        ('{"name": "rank", "arguments": {}}', "tool_syntax"),
        ("functions.rank({})", "tool_syntax"),
        ("Xiaomi ranks #4 <|im_end|>", "tool_syntax"),  # figures or not
        ("Xiaomi&#39;s share is high", "markup"),
        ("## Xiaomi\nA phone maker.", "markup"),
        ("**Xiaomi** uses compute", "markup"),
        ("| company | share |\n|---|---|", "markup"),
        ("I am a language model and cannot browse the internet.", "off_topic"),
        ("The capital of France is Paris.", "off_topic"),
        ("我是一个人工智能助手,很高兴为你服务。", "off_topic"),
    ],
)
def test_no_answers(text: str, why: str):
    assert unusable(text, RANK_Q if text.isascii() else ZH_Q, ["Xiaomi", "小米"], NAMES) == why


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("Xiaomi ranks #4 of 28 (72%).", RANK_Q),  # figures: the grounding gate's to judge
        ("Xiaomi mostly uses its compute itself.", RANK_Q),
        ("小米主要把算力用于自己的业务。", ZH_Q),
        ("Nobody can say who wins; I can show rankings.", "Who wins the AI race in the end?"),
        ("阿里巴巴更像卖水者。", "阿里算是卖水的还是用水的?"),
        ("Tencent and Alibaba both sell cloud compute.", "Who sells compute?"),
    ],
)
def test_answers(text: str, question: str):
    asked = [n for n in NAMES if n.casefold() in question.casefold()]
    assert unusable(text, question, asked, NAMES) is None
