"""Every setting of the program, in one model read once at start-up and passed down.

Values come from the environment, else from a `.env` file in the working directory (the
environment wins). README.md's tables are the reference for each variable. Secrets (the API
key, the bot token) are `SecretStr`, so no repr, log line or error message shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
)
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from bot.text.i18n import Lang, detect

# Local servers (Ollama, llama.cpp, vLLM) need no key, but the SDK refuses to start without one.
NO_KEY = "not-needed"
DEFAULT_TELEGRAM_URL = "https://api.telegram.org/bot"
MAX_WAIT = 600.0  # seconds: the longest LLM budget or request timeout accepted


class SettingsError(ValueError):
    """The environment does not describe a usable program (named variable, what is wrong)."""


class MissingToken(SettingsError):
    """TELEGRAM_BOT_TOKEN is not set."""


class LLMSettings(BaseModel):
    """How the agent talks to an OpenAI-compatible chat.completions endpoint."""

    model_config = ConfigDict(frozen=True)

    api_key: SecretStr | None = None
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    # A cloud model answers in 2-10 s; a small local model on a CPU needs minutes, so the caps
    # leave room for it (a person waits no longer than ten minutes for any answer).
    budget_seconds: float = Field(45.0, gt=0, le=MAX_WAIT)
    # Unset: 20 s, or half the budget when that is longer, so a slow model's one request fits
    # and a second attempt still can.
    request_timeout: float = Field(
        default_factory=lambda data: max(20.0, data.get("budget_seconds", 45.0) / 2),
        gt=0,
        le=MAX_WAIT,
    )
    # Sent with every request: without a limit a small local model writes until its context
    # is full, and a server keeps generating an abandoned request on its only slot.
    max_tokens: int = Field(600, ge=16, le=8192)
    temperature: float = Field(0.2, ge=0, le=2)
    max_attempts: int = Field(3, ge=1)
    max_tool_rounds: int = Field(4, ge=1, le=4)

    @property
    def enabled(self) -> bool:
        """LLM mode needs a key or an endpoint; otherwise the offline planner answers."""
        return self.api_key is not None or self.base_url is not None

    def key(self) -> str:
        return self.api_key.get_secret_value() if self.api_key else NO_KEY


def _ids(value: object) -> object:
    """ADMIN_USER_IDS is comma-separated: "1, 2" → {1, 2}."""
    if isinstance(value, str):
        return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
    return value


class TelegramSettings(BaseModel):
    """The Telegram bot's settings (the pacing figures are Telegram's limits, not knobs)."""

    model_config = ConfigDict(frozen=True)

    token: SecretStr
    base_url: str = DEFAULT_TELEGRAM_URL
    admin_ids: Annotated[frozenset[int], BeforeValidator(_ids)] = frozenset()
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
    cjk_font: Path | None = None  # a font file for Chinese chart labels, else the system's

    @property
    def file_url(self) -> str:
        """Where files are downloaded: Telegram serves them from /file/bot<token>/<path>."""
        base = self.base_url
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base.replace("/bot{token}", "/file/bot{token}")


def _blank_is_unset(value: object) -> object:
    """`FOO=` in a .env file means "not set", as an unset variable does."""
    return None if isinstance(value, str) and not value.strip() else value


Unset = BeforeValidator(_blank_is_unset)


class Settings(BaseSettings):
    """The environment as the program reads it: one field per variable (named by its alias)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    db: Annotated[Path | None, Unset] = Field(None, validation_alias="INFERENCE_LENS_DB")
    locale: Annotated[str | None, Unset] = Field(None, validation_alias="LANG")
    cjk_font: Annotated[Path | None, Unset] = Field(
        None, validation_alias="INFERENCE_LENS_CJK_FONT"
    )
    openai_api_key: Annotated[SecretStr | None, Unset] = Field(
        None, validation_alias="OPENAI_API_KEY"
    )
    openai_base_url: Annotated[str | None, Unset] = Field(None, validation_alias="OPENAI_BASE_URL")
    openai_model: Annotated[str | None, Unset] = Field(None, validation_alias="OPENAI_MODEL")
    llm_budget: Annotated[float | None, Unset] = Field(
        None, validation_alias="INFERENCE_LENS_LLM_BUDGET"
    )
    llm_timeout: Annotated[float | None, Unset] = Field(
        None, validation_alias="INFERENCE_LENS_LLM_TIMEOUT"
    )
    llm_max_tokens: Annotated[int | None, Unset] = Field(
        None, validation_alias="INFERENCE_LENS_LLM_MAX_TOKENS"
    )
    llm_temperature: Annotated[float | None, Unset] = Field(
        None, validation_alias="INFERENCE_LENS_LLM_TEMPERATURE"
    )
    telegram_token: Annotated[SecretStr | None, Unset] = Field(
        None, validation_alias="TELEGRAM_BOT_TOKEN"
    )
    telegram_base_url: Annotated[str | None, Unset] = Field(
        None, validation_alias="TELEGRAM_API_BASE_URL"
    )
    # NoDecode: a list-like field's environment value is JSON to pydantic-settings ("1, 2" is not)
    admin_user_ids: Annotated[frozenset[int], Unset, NoDecode, BeforeValidator(_ids)] = Field(
        frozenset(), validation_alias="ADMIN_USER_IDS"
    )
    llm_daily_limit: Annotated[int | None, Unset] = Field(None, validation_alias="LLM_DAILY_LIMIT")

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The environment and `.env`, or exactly `env` (tests); SettingsError names the
        variable that is wrong."""
        try:
            settings = cls() if env is None else _Given.model_validate_env(env)
        except ValidationError as exc:
            raise SettingsError(_problems(exc, {})) from None
        _ = settings.llm  # checked now: a value out of range is one clear message at start
        return settings

    @property
    def lang(self) -> Lang:
        """The default output language: `zh*` locales → Chinese, anything else English."""
        return detect(self.locale)

    @property
    def llm(self) -> LLMSettings:
        values = {
            "api_key": self.openai_api_key,
            "base_url": self.openai_base_url,
            "model": self.openai_model,
            "budget_seconds": self.llm_budget,
            "request_timeout": self.llm_timeout,
            "max_tokens": self.llm_max_tokens,
            "temperature": self.llm_temperature,
        }
        names = {
            "budget_seconds": "INFERENCE_LENS_LLM_BUDGET",
            "request_timeout": "INFERENCE_LENS_LLM_TIMEOUT",
            "max_tokens": "INFERENCE_LENS_LLM_MAX_TOKENS",
            "temperature": "INFERENCE_LENS_LLM_TEMPERATURE",
        }
        return _validated(LLMSettings, values, names)

    def telegram(self) -> TelegramSettings:
        """The bot's settings; MissingToken or SettingsError names what to fix."""
        if self.telegram_token is None:
            raise MissingToken(
                "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and export its token"
            )
        values = {
            "token": self.telegram_token,
            "base_url": self.telegram_base_url,
            "admin_ids": self.admin_user_ids,
            "llm_daily_limit": self.llm_daily_limit,
            "cjk_font": self.cjk_font,
        }
        names = {"base_url": "TELEGRAM_API_BASE_URL", "llm_daily_limit": "LLM_DAILY_LIMIT"}
        return _validated(TelegramSettings, values, names)


class _Given(Settings):
    """Settings from a given mapping only: no environment, no `.env` file."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)

    @classmethod
    def model_validate_env(cls, env: Mapping[str, str]) -> Settings:
        values: dict[str, Any] = dict(env)
        return cls(**values)


M = TypeVar("M", bound=BaseModel)


def _validated(model: type[M], values: Mapping[str, object], names: dict[str, str]) -> M:
    """The model from the values that are set, with errors named by environment variable."""
    try:
        return model.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        raise SettingsError(_problems(exc, names)) from None


def _problems(exc: ValidationError, names: dict[str, str]) -> str:
    items = (f"{names.get(str(e['loc'][0]), e['loc'][0])}: {e['msg']}" for e in exc.errors())
    return "bad settings: " + "; ".join(items)
