"""The Telegram bot's settings, read from the environment; the token is never shown in logs."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

DEFAULT_BASE_URL = "https://api.telegram.org/bot"


class SettingsError(ValueError):
    """The environment does not describe a usable bot."""


class MissingToken(SettingsError):
    """TELEGRAM_BOT_TOKEN is not set."""


class TelegramSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    token: SecretStr
    base_url: str = DEFAULT_BASE_URL
    admin_ids: frozenset[int] = frozenset()
    llm_daily_limit: int = Field(50, ge=0)
    # Telegram asks for about one message a second per chat; a short burst (an answer and its
    # chart) is tolerated, so each chat gets a bucket of `chat_burst` refilled at one a second.
    chat_burst: int = Field(3, ge=1)
    chat_per_second: float = Field(1.0, gt=0)
    overall_per_second: float = Field(30.0, gt=0)
    max_retries: int = Field(3, ge=0)
    question_limit: int = Field(1000, ge=10)
    import_max_bytes: int = Field(1_000_000, ge=1)
    # Draw every chart at start and after an import (a few seconds of one core), so the first
    # /tiers of each company is as quick as the rest; tests turn it off to save the time.
    warm_up: bool = True

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _parse_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
        return value

    @property
    def file_url(self) -> str:
        """Where files are downloaded: Telegram serves them from /file/bot<token>/<path>."""
        base = self.base_url
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base.replace("/bot{token}", "/file/bot{token}")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> TelegramSettings:
        """TELEGRAM_BOT_TOKEN (required), TELEGRAM_API_BASE_URL, ADMIN_USER_IDS (comma-separated),
        LLM_DAILY_LIMIT."""
        env = os.environ if env is None else env
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
        if not token:
            raise MissingToken(
                "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and export its token"
            )
        values: dict[str, object] = {"token": token}
        optional = {
            "base_url": "TELEGRAM_API_BASE_URL",
            "admin_ids": "ADMIN_USER_IDS",
            "llm_daily_limit": "LLM_DAILY_LIMIT",
        }
        values |= {field: env[name] for field, name in optional.items() if env.get(name)}
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{optional.get(str(e['loc'][0]), e['loc'][0])}: {e['msg']}" for e in exc.errors()
            )
            raise SettingsError(f"bad bot settings: {problems}") from None
