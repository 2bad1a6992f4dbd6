"""Each result is said in one place (issue 9): the terminal, Telegram and chat answers differ
in markup only, so the drifts users saw cannot come back.

- a what-if states AI capex in the company's own currency on every surface;
- history and import reports name inputs in words, in both languages ('rev' was English in
  Chinese output);
- a fact is formatted once ('550,000.0 vehicles' in the CLI vs '550,000 vehicles' in Telegram);
- Chinese output carries no field ids and none of our English phrases (source titles aside).
"""

from __future__ import annotations

import re

import pytest
from fake_telegram import parse_html

from bot.agent import prose
from bot.agent.registry import ToolContext, call
from bot.cli.main import main
from bot.telegram import commands
from bot.text.i18n import LANGS, LOCALES, Lang
from tools.store import Store
from tools.taxonomy import ARCHETYPES, LAYER_TERMS, METRICS

FIELD_ID = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b|\b(?:allocation|layer_mix|ai_capex)\.[a-z_]+")


def cli(capsys, *argv: str) -> str:
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def telegram(store: Store, lang: Lang, command: str, *args: str) -> str:
    return parse_html(commands.COMMAND_VIEWS[command](store, lang, list(args)).html)


def chat(store: Store, lang: Lang, tool: str, arguments: dict) -> str:
    return prose.render([call(tool, arguments, ToolContext(store, store.universe(), lang))], lang)


@pytest.mark.parametrize(("lang", "shown"), [("en", "RMB 50.0bn"), ("zh", "500.0亿元人民币")])
def test_a_capex_what_if_is_in_the_companys_currency_everywhere(capsys, store, lang, shown):
    argv = ("alibaba", "ai_capex=5e10")
    surfaces = {
        "cli": cli(capsys, "--lang", lang, "whatif", *argv),
        "telegram": telegram(store, lang, "whatif", *argv),
        "chat": chat(
            store, lang, "what_if", {"company": "alibaba", "overrides": {"ai_capex": 5e10}}
        ),
    }
    for surface, text in surfaces.items():
        assert shown in text, surface
        assert "$50.0bn" not in text and "500.0亿美元" not in text, surface


@pytest.mark.parametrize(
    ("lang", "words"),
    [("en", ("own inference", "data revision")), ("zh", ("自用推理", "数据修订"))],
)
def test_history_names_inputs_in_words(capsys, store, lang, words):
    texts = [
        cli(capsys, "--lang", lang, "history", "baidu"),
        telegram(store, lang, "history", "baidu"),
    ]
    for text in texts:
        assert words[0] in text
        assert not FIELD_ID.findall(text), FIELD_ID.findall(text)
    if lang == "zh":
        assert all(" rev" not in text and "P(>" not in text for text in texts)


def test_a_fact_is_formatted_once(capsys, store):
    for lang, line in (
        ("en", "EV delivery target: 550,000 vehicles"),
        ("zh", "汽车交付目标: 550,000辆"),
    ):
        assert line in cli(capsys, "--lang", lang, "company", "xiaomi")
        assert line in telegram(store, lang, "company", "xiaomi")
        assert line in chat(store, lang, "company_profile", {"company": "xiaomi"})


def english_phrases() -> list[str]:
    """Our English words: catalogue phrases of two words or more, and the domain terms."""
    from babel.messages.pofile import read_po

    with (LOCALES / "en" / "LC_MESSAGES" / "inference_lens.po").open("rb") as f:
        strings = [
            s
            for m in read_po(f)
            if m.id
            for s in ([m.string] if isinstance(m.string, str) else m.string)
        ]
    words = [w for s in strings for w in re.split(r"\{\w+\}|[:;,()·.]", s) if len(w.split()) >= 2]
    terms = [t.en for t in (*METRICS.values(), *LAYER_TERMS.values(), *ARCHETYPES.values())]
    return sorted({w.strip() for w in [*words, *terms] if len(w.strip()) > 6})


def without_sources(text: str) -> str:
    """Chinese output with the source list cut off (titles stay in their original language)."""
    return re.split(r"\n来源[:(]|\n\S*来源\n|\n来源\n", text)[0]


@pytest.mark.parametrize(
    "argv",
    [
        ("rank",),
        ("rank", "--metric", "inference_self_use_ratio", "--period", "2024"),
        ("tiers", "xiaomi"),
        ("company", "alibaba"),
        ("compare", "xiaomi", "bytedance"),
        ("history", "baidu"),
        ("whatif", "alibaba", "ai_capex=5e10", "own_inference=0.3"),
    ],
)
def test_chinese_output_has_no_field_ids_or_english_phrases(capsys, store, argv):
    assert LANGS == ("zh", "en")
    shown = [without_sources(cli(capsys, "--lang", "zh", *argv))]
    if argv[0] in commands.COMMAND_VIEWS:
        args = [a for a in argv[1:] if not a.startswith("--")]  # Telegram takes them bare
        shown.append(without_sources(telegram(store, "zh", argv[0], *args)))
    phrases = english_phrases()
    for text in shown:
        assert not FIELD_ID.findall(text), FIELD_ID.findall(text)
        assert [p for p in phrases if p in text] == []
