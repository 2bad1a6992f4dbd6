"""The bot token and the LLM key kept out of everything the program writes (issue 17).

Settings hold them as SecretStr, so our own messages never show them; but the libraries'
messages do: python-telegram-bot's InvalidToken says "The token `…` was rejected", and the
Bot API's URLs carry the token, so any error quoting a URL carries it too; an LLM provider
or proxy may echo the key it refused. Rather than vet every message of every library, the
process's stdout and stderr pass through a filter that masks the secrets: prints, log
lines (every handler writes to these streams), tracebacks and warnings alike.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TextIO

from bot.settings import Settings

MASK = "[hidden]"
MIN_SECRET = 6  # a shorter "secret" would mask ordinary words in every line


def secrets(settings: Settings) -> list[str]:
    """The values to mask: the key, and the token's secret part (after the bot's id, which
    is public: it is in every message's sender), which covers the whole token too."""
    values = []
    if settings.openai_api_key is not None:
        values.append(settings.openai_api_key.get_secret_value())
    if settings.telegram_token is not None:
        values.append(settings.telegram_token.get_secret_value().partition(":")[2] or "")
    return [v for v in values if len(v) >= MIN_SECRET]


class Masked:
    """A text stream that writes through to another with the secrets masked. One write is
    one log line or one piece of a print, so a secret is never split across two."""

    def __init__(self, stream: TextIO, hidden: Iterable[str]) -> None:
        self._stream = stream
        self._hidden = sorted(set(hidden), key=len, reverse=True)  # longest first

    def write(self, text: str) -> int:
        for secret in self._hidden:
            text = text.replace(secret, MASK)
        return self._stream.write(text)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, encoding, isatty…
        return getattr(self._stream, name)


def mask_output(settings: Settings) -> None:
    """Mask stdout and stderr for the rest of the process: a traceback of an uncaught
    exception is written after `main` has returned."""
    hidden = secrets(settings)
    if hidden:
        sys.stdout = Masked(sys.stdout, hidden)
        sys.stderr = Masked(sys.stderr, hidden)
