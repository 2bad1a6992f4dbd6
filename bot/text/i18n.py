"""Every phrase a person reads, from per-language gettext catalogues (zh, en).

The catalogues are `locales/<lang>/LC_MESSAGES/inference_lens.po` beside this file, compiled
to `.mo` by `make i18n` (Babel). gettext rather than Fluent: the stdlib reads a compiled
catalogue in about a millisecond (Fluent's runtime costs ~0.4 s to import and parse, more than
a whole `rank` command), plural forms are the catalogue's own (`Plural-Forms`), and `.po` is
the format translators' tools know. Message ids are keys (`rank_title`); values are
`str.format` templates. A plural message is chosen by its `n` placeholder.
"""

from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path
from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
DOMAIN = "inference_lens"
LOCALES = Path(__file__).with_name("locales")


class _Missing(gettext.NullTranslations):
    """The catalogues' fallback: a key nobody wrote is an error, never shown as itself."""

    def gettext(self, message: str) -> str:
        raise KeyError(message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        raise KeyError(msgid1)


@cache
def catalogue(lang: Lang) -> gettext.GNUTranslations:
    with (LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as f:
        cat = gettext.GNUTranslations(f)
    cat.add_fallback(_Missing())
    return cat


def t(key: str, lang: Lang, **values: object) -> str:
    """The phrase `key` in `lang` with its placeholders filled; KeyError when it is missing."""
    cat = catalogue(lang)
    n = values.get("n")
    try:
        text = cat.ngettext(key, key, n) if isinstance(n, int) else cat.gettext(key)
    except KeyError:  # a count given to a phrase without plural forms
        text = cat.gettext(key)
    return text.format(**values)


def parse(text: str) -> Lang | None:
    """A language as a user types it ('zh', 'EN'), else None."""
    code = text.strip().lower()
    return "zh" if code == "zh" else "en" if code == "en" else None


def detect(text: str | None) -> Lang:
    """'zh-hans', 'zh_CN.UTF-8' → zh; anything else → en."""
    return "zh" if text and text.lower().startswith("zh") else "en"
