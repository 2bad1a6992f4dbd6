"""The phrase catalogues (issue 9): both languages, the same placeholders, every phrase used,
compiled catalogues up to date, plural forms where a count is said."""

from __future__ import annotations

import ast
import gettext
import io
import re
import typing
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.text.i18n import DOMAIN, LANGS, LOCALES, t

ROOT = Path(__file__).resolve().parent.parent
FIELD = re.compile(r"\{(\w+)")


def po(lang: str):
    with (LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as f:
        return read_po(f)


def forms(message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


CATALOGUES = {
    lang: {m.id if isinstance(m.id, str) else m.id[0]: m for m in po(lang) if m.id}
    for lang in LANGS
}


def test_every_key_is_in_both_languages():
    assert set(CATALOGUES["zh"]) == set(CATALOGUES["en"])
    assert all(all(forms(m)) for c in CATALOGUES.values() for m in c.values())  # none empty


@pytest.mark.parametrize("key", sorted(CATALOGUES["en"]))
def test_placeholders_match(key: str):
    fields = {
        lang: {f for s in forms(c[key]) for f in FIELD.findall(s)} for lang, c in CATALOGUES.items()
    }
    assert fields["zh"] == fields["en"]


def test_a_phrase_with_a_count_has_plural_forms():
    for key, message in CATALOGUES["en"].items():
        if "{n}" in "".join(forms(message)) and not key.endswith("_title"):
            assert message.pluralizable, key
    assert t("unsubscribed", "en", n=1) == "Removed 1 subscription."
    assert t("unsubscribed", "en", n=2) == "Removed 2 subscriptions."
    assert t("unsubscribed", "zh", n=2) == "已取消 2 个订阅。"


def test_compiled_catalogues_are_up_to_date():
    """`make i18n` was run after the last .po edit."""
    for lang in LANGS:
        fresh = io.BytesIO()
        write_mo(fresh, po(lang))
        fresh.seek(0)
        with (LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as f:
            shipped = gettext.GNUTranslations(f)
        compiled = gettext.GNUTranslations(fresh)._catalog
        del compiled[""], shipped._catalog[""]  # headers carry the compile time
        assert shipped._catalog == compiled, lang


def string_constants() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


# Keys the code builds from a prefix and a name (t("cmd_" + name)): each family is listed
# with the names that complete it, so a phrase nobody can reach still fails the test below.
def dynamic_keys() -> set[str]:
    from bot.telegram.pages import COMMANDS
    from tools.confidence import Level
    from tools.models import ALLOCATION_KEYS, SourceKind
    from tools.ranking import Reason

    kinds = {f"kind_{k.value}" for k in SourceKind}
    kinds |= {f"verdict_{level}" for level in typing.get_args(Level)}
    kinds |= {f"reason_{reason}" for reason in typing.get_args(Reason)}
    return (
        {f"cmd_{c}" for c in (*COMMANDS, "start")} | {f"alloc_{k}" for k in ALLOCATION_KEYS} | kinds
    )


def test_every_phrase_is_used():
    used = string_constants() | dynamic_keys()
    assert sorted(set(CATALOGUES["en"]) - used) == []


def test_a_missing_phrase_is_an_error():
    with pytest.raises(KeyError):
        t("no_such_phrase", "en")
