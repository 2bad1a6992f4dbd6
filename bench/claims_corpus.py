"""The claims benchmark's corpus: how a figure is written, and the lies made from true claims.

An answer in bench/data/claims.yaml carries its claims: the span of text, its kind, its subject
(a company id or "a|b" for a pair), the true value and the style it was written in. `render`
writes a value in a style; `perturb` rewrites one claim of an answer into a wrong one of a given
kind, in the same style, so the lie reads like the truth it replaces.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CORPUS = Path(__file__).parent / "data" / "claims.yaml"
HAND = Path(__file__).parent / "data" / "claims_hand.yaml"  # read while fixing the gate
HOLDOUT = Path(__file__).parent / "data" / "claims_holdout.yaml"  # never tuned against
DIGITS = "零一二三四五六七八九"
WORDS = ["zero one two three four five six seven eight nine ten eleven twelve"][0].split()
ORDINALS = [
    "zeroth first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth "
    "twenty-first twenty-second twenty-third twenty-fourth twenty-fifth twenty-sixth "
    "twenty-seventh twenty-eighth"
][0].split()
ARCHETYPE_WORDS = {
    "en": {"supplier": "a supplier", "dual": "a dual-role company", "self_user": "a self-user"},
    "zh": {"supplier": "卖水者", "dual": "卖水与用水双重角色", "self_user": "重度用水的内驱型"},
}


def cn_int(n: int) -> str:
    """A whole number below 100 in Chinese numerals: 72 → 七十二, 10 → 十."""
    if n < 10:
        return DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else DIGITS[tens]
    return head + "十" + (DIGITS[ones] if ones else "")


def _num(x: float, places: int = 2) -> str:
    text = f"{x:.{places}f}"
    return text.rstrip("0").rstrip(".") if places else text


def render(kind: str, style: str, value: float) -> str:
    """One figure written the way an analyst writes it (the span that a claim covers)."""
    pct = round(value * 100)
    match style:
        case "pct":
            return f"{pct}%"
        case "pct1":
            return f"{value * 100:.1f}%"
        case "about":
            return f"about {5 * round(value * 20)}%"
        case "about_exact":
            return f"about {pct}%"
        case "zh_about":
            return f"约{5 * round(value * 20)}%"
        case "zh_about_exact":
            return f"约{pct}%"
        case "cheng":
            return f"约{cn_int(round(value * 10))}成"
        case "baifen":
            return f"百分之{cn_int(pct)}"
        case "hash":
            return f"#{int(value)}"
        case "no":
            return f"No. {int(value)}"
        case "ord":
            return ORDINALS[int(value)] if 0 < value < len(ORDINALS) else f"{int(value)}th"
        case "ord_digit":
            return _ordinal_digits(int(value))
        case "zh_di":
            return f"第{int(value)}名"
        case "zh_cn_di":
            return f"第{cn_int(int(value))}"
        case "top":
            return f"top {int(value)}"
        case "zh_top":
            return f"前{cn_int(int(value))}"
        case "bn":
            return f"${_num(value / 1e9)}bn"
        case "about_bn":
            return f"about ${_num(value / 1e9, 0)}bn"
        case "zh_yi":
            return f"{_num(value / 1e8, 0)}亿美元"
        case "rmb_bn":
            return f"RMB {_num(value / 1e9)}bn"
        case "zh_yi_yuan":
            return f"{_num(value / 1e8, 0)}亿元"
        case "pp":
            return f"{_num(value * 100, 1)} percentage points"
        case "zh_pp":
            return f"{_num(value * 100, 1)}个百分点"
        case "points":
            return f"{_num(value * 100, 1)} points"
        case "times":
            return f"{_num(value, 1)} times"
        case "times2":
            return f"{_num(value, 2)} times"
        case "x":
            return f"{_num(value, 1)}×"
        case "zh_bei":
            return f"{_num(value, 1)}倍"
        case "zh_bei2":
            return f"{_num(value, 2)}倍"
        case "year":
            return str(int(value))
        case "count":
            return f"{int(value)} companies"
        case "zh_count":
            return f"{int(value)}家公司"
        case "zh_jia":
            return f"{int(value)}家"
        case "en_word":
            return WORDS[int(value)] if value < len(WORDS) else str(int(value))
    raise ValueError(f"unknown style {style}")


# A hedged figure nudged by 2 points may still be honest ("about 70%" for 72%): its lie is
# written exact, as a model states a wrong figure.
EXACT = {
    "about": "pct",
    "zh_about": "pct",
    "cheng": "pct",
    "about_exact": "pct",
    "zh_about_exact": "pct",
}


def _ordinal_digits(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


@dataclass(frozen=True)
class Lie:
    kind: str
    text: str
    claim: str


def load() -> dict[str, Any]:
    """{"names": {id: {"en", "zh"}}, "answers": [...]}"""
    return yaml.safe_load(CORPUS.read_text(encoding="utf-8"))


def load_hand(path: Path = HAND) -> list[dict[str, Any]]:
    """The hand-written answers, each claim placed at its span (`nth` occurrence, default 1)."""
    answers: list[dict[str, Any]] = yaml.safe_load(path.read_text(encoding="utf-8"))["answers"]
    for answer in answers:
        for claim in answer["claims"]:
            claim["at"] = _find(answer["answer"], claim["text"], claim.get("nth", 1))
            claim.setdefault("subject", "")
            if isinstance(claim.get("value"), str) and claim["kind"] in (
                "amount",
                "gap_amount",
                "sum",
            ):
                claim["value"] = float(claim["value"])  # YAML 1.1 reads 141e9 as a string
        for lie in answer.get("lies", []):
            _find(answer["answer"], lie["from"], 1)
    return answers


def _find(text: str, span: str, nth: int) -> int:
    at = -1
    for _ in range(nth):
        at = text.find(span, at + 1)
        if at < 0:
            raise ValueError(f"{span!r} is not in {text!r}")
    return at


def _replace(answer: dict[str, Any], claim: dict[str, Any], span: str) -> str:
    text: str = answer["answer"]
    at = claim["at"]
    return text[:at] + span + text[at + len(claim["text"]) :]


def _shifted(answer: dict[str, Any], claim: dict[str, Any], value: float, kind: str) -> Lie:
    style = EXACT.get(claim["style"], claim["style"])
    return Lie(kind, _replace(answer, claim, render(claim["kind"], style, value)), claim["text"])


def perturb(answer: dict[str, Any], names: dict[str, dict[str, str]]) -> Iterator[Lie]:
    """Every systematic lie of every claim of one answer."""
    for claim in answer["claims"]:
        kind, value, style = claim["kind"], claim.get("value"), claim.get("style", "")
        if kind == "rank" and style not in ("top", "zh_top"):
            for d in (-2, -1, 1, 2):
                if 1 <= value + d <= 28:
                    yield _shifted(answer, claim, value + d, f"rank{d:+d}")
        elif kind == "rank":
            if value - 1 >= 1 and claim.get("true_rank", value) > value - 1:
                yield _shifted(answer, claim, claim["true_rank"] - 1, "rank-1")
        elif kind in ("share", "prob"):
            for d in (-0.05, -0.02, 0.02, 0.05):
                if 0 < value + d < 1:
                    yield _shifted(answer, claim, value + d, f"share{d * 100:+.0f}pp")
        elif kind == "gap_pp":
            for d in (-0.03, 0.03):
                if value + d > 0:
                    yield _shifted(answer, claim, value + d, "gap")
        elif kind == "gap_amount":
            yield _shifted(answer, claim, value * 1.3, "gap")
        elif kind in ("amount", "sum"):
            yield _shifted(answer, claim, value * 1.3, kind)
        elif kind == "direction":
            yield _flipped(answer, claim, names)
        elif kind == "ratio":
            yield _shifted(answer, claim, value + 0.7, "ratio")
        elif kind == "archetype":
            words = ARCHETYPE_WORDS[answer["lang"]]
            for other, word in words.items():
                if other != value:
                    yield Lie("archetype", _replace(answer, claim, word), claim["text"])
                    break
        elif kind == "period":
            yield Lie("period", _replace(answer, claim, "2023"), claim["text"])
    for lie in answer.get("lies", []):
        yield Lie(lie["kind"], answer["answer"].replace(lie["from"], lie["to"], 1), lie["from"])
    yield from _swaps(answer, names)


def _flipped(
    answer: dict[str, Any], claim: dict[str, Any], names: dict[str, dict[str, str]]
) -> Lie:
    """Wrong direction: the two companies of a comparison trade places ("A比B多" → "B比A多")."""
    a, b = claim.get("pair") or [names[s][answer["lang"]] for s in claim["subject"].split("|")]
    span = claim["text"].replace(a, "\0").replace(b, a).replace("\0", b)
    return Lie("direction", _replace(answer, claim, span), claim["text"])


def _swaps(answer: dict[str, Any], names: dict[str, dict[str, str]]) -> Iterator[Lie]:
    """Entity swap: the figures stay, the company they are written about changes."""
    lang = answer["lang"]
    subjects = [s for s in answer.get("subjects", [])]
    text: str = answer["answer"]
    if len(subjects) == 2:
        a, b = (names[s][lang] for s in subjects)
        if text.count(a) == 1 and text.count(b) == 1:
            swapped = text.replace(a, "\0").replace(b, a).replace("\0", b)
            yield Lie("entity_swap", swapped, f"{a}<->{b}")
    elif len(subjects) == 1:
        own = names[subjects[0]][lang]
        other = answer.get("swap_with")
        if other and own in text:
            yield Lie("entity_swap", text.replace(own, names[other][lang]), own)
