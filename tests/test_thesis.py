"""The shipped data reproduces the thesis's picture from its own numbers, with its robustness."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from tools.ranking import compare, rank
from tools.resolve import Resolver
from tools.store import Store

THESIS_SIX = ["xiaomi", "bytedance", "meituan", "tencent", "alibaba", "baidu"]
# Companies added after the article (issue 16) and the archetype their business implies.
NEW_CN_ARCHETYPES = {
    "kuaishou": "self_user",
    "jd": "self_user",
    "pdd": "self_user",
    "netease": "self_user",
    "iflytek": "dual",
    "huawei": "supplier",
    "sensetime": "supplier",
}


@pytest.fixture(scope="module")
def universe(tmp_path_factory):
    return Store.open(tmp_path_factory.mktemp("thesis") / "lens.db").universe()


def order(universe, **kwargs) -> list[str]:
    return [r.company for r in rank(universe, **kwargs).rows]


@pytest.mark.parametrize("period", [None, "2025", "2026"])
def test_thesis_ordering_among_chinese_companies(universe, period):
    # The article orders the six companies it names; companies added later (PDD ranks above
    # Xiaomi, NetEase ties it in 2026: findings, docs/methodology.md §11) are left out so the
    # claim is tested as the article made it.
    everyone = order(universe, region="CN", period=period)
    assert set(THESIS_SIX) <= set(everyone)
    cn = [company for company in everyone if company in THESIS_SIX]
    assert cn[0] == "xiaomi"
    assert cn[1] == "bytedance"
    for heavy_user in ("xiaomi", "bytedance", "meituan"):
        for cloud in ("tencent", "alibaba"):
            assert cn.index(heavy_user) < cn.index(cloud), (heavy_user, cloud, cn)


def test_thesis_archetypes(universe):
    rows = {r.company: r for r in rank(universe).rows}
    assert rows["xiaomi"].archetype == "self_user" and "edge_builder" in rows["xiaomi"].tags
    assert rows["meituan"].archetype == "self_user"
    for company in ("alibaba", "tencent", "baidu"):
        assert rows[company].archetype in ("dual", "supplier"), company


def test_new_chinese_companies_get_the_archetype_of_their_business(universe):
    rows = {r.company: r for r in rank(universe).rows}
    for company, archetype in NEW_CN_ARCHETYPES.items():
        assert rows[company].archetype == archetype, company
        assert len(universe.companies[company].snapshots) >= 3, company


def test_every_company_has_history(universe):
    for company in THESIS_SIX:
        assert len(universe.companies[company].snapshots) >= 2, company


def test_ordering_robustness_is_reported(universe):
    c = compare(universe, ["xiaomi", "bytedance", "tencent", "alibaba"])
    # reported, not assumed: the gaps the thesis rests on should hold in most samples
    assert c.p_above("bytedance", "tencent") > 0.9
    assert c.p_above("bytedance", "alibaba") > 0.9
    assert 0.5 < c.p_above("xiaomi", "bytedance") <= 1.0
    # every pair is stated from the side shown first
    assert [(p.leader, p.other) for p in c.pairs][:3] == [
        ("xiaomi", "bytedance"),
        ("xiaomi", "tencent"),
        ("xiaomi", "alibaba"),
    ]
    print({(p.leader, p.other): (p.p, p.level) for p in c.pairs})


DOCS = Path(__file__).parent.parent / "docs" / "methodology.md"
NAMES = {"Xiaomi": "xiaomi", "ByteDance": "bytedance", "Meituan": "meituan"}
NAMES |= {"Tencent": "tencent", "Baidu": "baidu", "Alibaba": "alibaba"}


def test_the_methodology_reports_the_figures_the_model_gives(universe):
    """The robustness figures of docs/methodology.md §5.5 are today's, not a past model's."""
    text = DOCS.read_text(encoding="utf-8").split("### 5.5", 1)[1].split("\n## ", 1)[0]
    stated = re.findall(r"P\((\w+) above (\w+)\) =\s+(\d\.\d\d)", text)
    assert len(stated) == 5
    c = compare(universe, list(NAMES.values()))
    for a, b, p in stated:
        assert round(c.p_above(NAMES[a], NAMES[b]), 2) == float(p), (a, b)


NEIGHBOUR_LEVELS = {
    "en": {"robust": "robust", "likely": "likely", "lean": "lean", "coin flip": "coin_flip"},
    "zh": {"稳健": "robust", "较可能": "likely", "略占上风": "lean", "接近抛硬币": "coin_flip"},
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_methodology_states_every_chinese_neighbour_pair(universe, lang):
    """§11's table: every neighbour pair of the Chinese ranking, with today's P and level."""
    name = "methodology.md" if lang == "en" else "methodology.zh.md"
    text = (DOCS.parent / name).read_text(encoding="utf-8").split("## 11.", 1)[1]
    cells = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in text.splitlines()
        if re.fullmatch(r"\|.*\| \d\.\d\d \|.*\|", line)
    ]
    resolver = Resolver(universe.companies.values())
    pairs = [(resolver.resolve(row[0]), resolver.resolve(row[2])) for row in cells]
    shown = order(universe, region="CN")
    assert pairs == list(itertools.pairwise(shown))
    for (leader, other), row in zip(pairs, cells, strict=True):
        # per pair: P(A above B) does not depend on who else is compared (per-company streams)
        [pair] = compare(universe, [leader, other]).pairs
        assert (pair.leader, pair.other) == (leader, other)
        assert round(pair.p, 2) == float(row[4]), (leader, other)
        words = NEIGHBOUR_LEVELS[lang]
        assert words[next(w for w in words if row[5].startswith(w))] == pair.level, row
