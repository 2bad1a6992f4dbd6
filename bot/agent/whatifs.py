"""What-if changes read from a question's words: which input changes, and how ("降低10个百分点"
is -10 points, "降低10%" -10% of the value, "a third", "一半", "翻倍", "double its capex").

Matching runs on text folded by intents.fold (NFKC, lowercase, simplified Chinese).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel

from bot.agent.intents import first, has

# fmt: off
FRACTION_WORDS = {
    "half": 0.5,
    "一半": 0.5,
    "减半": 0.5,
    "a third": 1 / 3,
    "三分之一": 1 / 3,
    "a quarter": 0.25,
    "四分之一": 0.25,
    "all of": 1.0,
    "全部": 1.0,
}
# fmt: on


class WhatIfSpec(BaseModel):
    """A hypothetical change: set an input, scale it, or sell part of own inference."""

    field: str
    op: Literal["set", "add", "scale", "sell"]
    value: float


# fmt: off
WHATIF_FIELDS: dict[str, tuple[str, ...]] = {
    "external_supply_share": ("对外算力占比", "对外", "外供", "external supply", "external share"),
    "own_training": ("训练", "training"),
    "external_iaas": ("iaas", "算力租赁", "compute rental"),
    "external_maas": ("maas", "模型即服务"),
    "layer_mix.edge": (
        "边缘", "edge",
    ),
    "ai_capex": ("资本开支", "capex", "spend", "投入"),
    "own_inference": ("自用推理", "自用", "self-use", "self use", "own inference", "own-use"),
}
SELL_WORDS = ("sold", "sell", "卖掉", "卖出", "出售", "卖给", "对外卖", "转卖")
INFERENCE_WORDS = ("inference", "推理")
DOUBLE_WORDS = (
    "double", "twice", "翻倍", "翻一番", "两倍", "增加一倍", "翻一倍", "涨一倍", "提高一倍",
)
HALVE_WORDS = ("halve", "halved", "减半", "砍半")
# A change "by" an amount; English verbs may take an object first ("cut its capex by a third").
DOWN_BY = ("降低", "减少", "下降", "削减", "降", "跌", "少了")
UP_BY = ("提高", "增加", "上升", "增长", "涨", "多了")
_DOWN_EN = re.compile(
    r"(?<![a-z])(?:decrease|fall|fell|cut|drop|reduce|lower|shrink|slash|trim)\w*(?:\s+\S+){0,3}?\s+by\b"
)
_UP_EN = re.compile(
    r"(?<![a-z])(?:increase|rise|rose|grow|grew|went up|goes up|up|raise|boost|lift)\w*(?:\s+\S+){0,3}?\s+by\b"
)
SET_TO = ("到", "至", "为", "成", " to ", "becomes", "became", "were", "was", "is ")
# fmt: on


def whatif_of(text: str, default_field: str | None = None) -> WhatIfSpec | None:
    """The change a what-if asks for; `default_field` is what a follow-up ("what if it
    doubled") changes when it names nothing."""
    fraction = _fraction(text)
    if has(text, SELL_WORDS) and has(text, INFERENCE_WORDS):
        return WhatIfSpec(field="own_inference", op="sell", value=fraction or 0.5)
    field = _whatif_field(text) or default_field
    if field is None:
        return None
    if has(text, DOUBLE_WORDS):
        return WhatIfSpec(field=field, op="scale", value=2.0)
    if has(text, HALVE_WORDS):
        return WhatIfSpec(field=field, op="scale", value=0.5)
    if fraction is None:
        return None
    by = _direction(text)
    if by and re.search(r"\d\s*(个百分点|percentage point|points?\b|pp\b)", text):
        return WhatIfSpec(field=field, op="add", value=by * fraction)  # "降低10个百分点"
    if by and not _set_before_number(text):
        return WhatIfSpec(field=field, op="scale", value=1 + by * fraction)
    return WhatIfSpec(field=field, op="set", value=fraction)


def _direction(text: str) -> int:
    """-1 for a change down by an amount, +1 up, 0 for a value set outright."""
    if _DOWN_EN.search(text) or has(text, DOWN_BY):
        return -1
    return 1 if _UP_EN.search(text) or has(text, UP_BY) else 0


def _whatif_field(text: str) -> str | None:
    found = [
        (pos, f) for f, words in WHATIF_FIELDS.items() if (pos := first(text, words)) is not None
    ]
    return min(found)[1] if found else None


def _fraction(text: str) -> float | None:
    """The change's size: '20%' → 0.2, '0.3' → 0.3, 'half' → 0.5."""
    match = re.search(
        r"(\d+(?:\.\d+)?)\s*(%|percent|个百分点|percentage point|points?\b|pp\b)", text
    )
    if match:
        return float(match.group(1)) / 100
    match = re.search(r"(?<![\d.])(0?\.\d+|1\.0+)(?![\d.])", text)
    if match:
        return float(match.group(1))
    return next((v for w, v in FRACTION_WORDS.items() if has(text, (w,))), None)


def _set_before_number(text: str) -> bool:
    """'降到20%' / 'fell to 20%' set a value; '降低20%' / 'fell by 20%' scale it."""
    match = re.search(r"(\S{0,3})\s*(\d+(?:\.\d+)?)\s*%", text)
    return match is not None and any(w.strip() in match.group(1) for w in SET_TO if w.strip())
