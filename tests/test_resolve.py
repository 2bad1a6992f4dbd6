"""Company resolution by id, name, alias and ticker; case-, width- and typo-tolerant."""

from __future__ import annotations

import pytest

from tools.errors import UnknownCompany
from tools.resolve import Resolver
from tools.store import Store


@pytest.fixture(scope="module")
def resolver(tmp_path_factory) -> Resolver:
    store = Store.open(tmp_path_factory.mktemp("resolve") / "lens.db")
    return Resolver(store.universe().companies.values())


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("xiaomi", "xiaomi"),
        ("Xiaomi", "xiaomi"),
        ("小米", "xiaomi"),
        ("1810.HK", "xiaomi"),
        ("１８１０.ｈｋ", "xiaomi"),
        ("阿里", "alibaba"),
        ("阿里巴巴", "alibaba"),
        ("BABA", "alibaba"),
        ("字节跳动", "bytedance"),
        ("腾讯", "tencent"),
        ("0700.HK", "tencent"),
        ("Meta Platforms", "meta"),
        ("facebook", "meta"),
        ("GOOGL", "alphabet"),
    ],
)
def test_resolves(resolver, query, expected):
    assert resolver.resolve(query) == expected


def test_typo_gets_suggestions(resolver):
    with pytest.raises(UnknownCompany) as exc:
        resolver.resolve("xiaomy")
    assert exc.value.suggestions[0] == "xiaomi"
    with pytest.raises(UnknownCompany) as exc:
        resolver.resolve("tencnet")
    assert "tencent" in exc.value.suggestions


def test_nonsense_gets_no_suggestions(resolver):
    with pytest.raises(UnknownCompany) as exc:
        resolver.resolve("qqqqqqqq")
    assert exc.value.suggestions == []


def test_finds_companies_in_sentences(resolver):
    assert resolver.find_in("腾讯和阿里巴巴谁的自用推理占比更高?") == ["tencent", "alibaba"]
    assert resolver.find_in("ByteDance vs Tencent on inference") == ["bytedance", "tencent"]
    assert resolver.find_in("metadata is not a company") == []
