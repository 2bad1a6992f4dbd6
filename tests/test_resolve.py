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
        # HK codes: leading zeros and the exchange suffix do not matter
        ("700", "tencent"),
        ("0700", "tencent"),
        ("00700", "tencent"),
        ("00700.hk", "tencent"),
        ("７００", "tencent"),
        ("9988", "alibaba"),
        ("09988.HK", "alibaba"),
        ("3690", "meituan"),
        ("9888", "baidu"),
        ("01810", "xiaomi"),
        # nicknames and traditional-script names, from the data
        ("鹅厂", "tencent"),
        ("騰訊", "tencent"),
        ("度娘", "baidu"),
        ("猫厂", "alibaba"),
        ("阿里爸爸", "alibaba"),
        ("巨硬", "microsoft"),
        ("微軟", "microsoft"),
        ("狗家", "alphabet"),
        ("亚麻", "amazon"),
        ("亞馬遜", "amazon"),
        ("蘋果", "apple"),
        ("字節跳動", "bytedance"),
        ("抖音母公司", "bytedance"),
        ("美團", "meituan"),
        ("甲骨文", "oracle"),
    ],
)
def test_resolves(resolver, query, expected):
    assert resolver.resolve(query) == expected


def test_no_name_belongs_to_two_companies(store: Store):
    companies = store.universe().companies.values()
    resolver = Resolver(companies)
    for company in companies:
        for name in [company.name.zh, company.name.en, *company.aliases, *company.tickers]:
            assert resolver.resolve(name) == company.id, f"{name} is not only {company.id}'s"


@pytest.mark.parametrize("query", ["70", "181", "2024", "99999"])
def test_a_number_that_is_no_hk_code_names_nobody(resolver, query):
    """Not even by prefix: 70 is not the start of 700, and a year stays a period."""
    with pytest.raises(UnknownCompany):
        resolver.resolve(query)


def test_hk_codes_in_sentences(resolver):
    assert resolver.find_in("0700的自用推理占比排第几") == ["tencent"]
    assert resolver.find_in("00700 vs 9988.HK") == ["tencent", "alibaba"]
    assert resolver.find_in("腾讯0700和3690") == ["tencent", "meituan"]
    # amounts, decimals and short numbers are not codes; years are periods
    assert resolver.find_in("资本开支增加到1810亿会怎样") == []
    assert resolver.find_in("capex of $9988 or 1810.5 or 1810 bn") == []
    assert resolver.find_in("700 GPUs in 2024") == []


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
