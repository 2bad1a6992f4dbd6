"""Settings read from the environment; the API key is a SecretStr, so no repr or log shows it."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr

# Local servers (Ollama, llama.cpp, vLLM) need no key, but the SDK refuses to start without one.
NO_KEY = "not-needed"


class LLMSettings(BaseModel):
    """How the agent talks to an OpenAI-compatible chat.completions endpoint."""

    model_config = ConfigDict(frozen=True)

    api_key: SecretStr | None = None
    base_url: str | None = None
    model: str = "gpt-4o-mini"
    budget_seconds: float = Field(45.0, gt=0, le=45.0)
    request_timeout: float = Field(20.0, gt=0)
    max_attempts: int = Field(3, ge=1)
    max_tool_rounds: int = Field(4, ge=1, le=4)

    @property
    def enabled(self) -> bool:
        """LLM mode needs a key or an endpoint; otherwise the offline planner answers."""
        return self.api_key is not None or self.base_url is not None

    def key(self) -> str:
        return self.api_key.get_secret_value() if self.api_key else NO_KEY

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LLMSettings:
        """OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_MODEL; INFERENCE_LENS_LLM_BUDGET (seconds,
        at most 45) and INFERENCE_LENS_LLM_TIMEOUT (per request) let tests shorten the waits."""
        env = os.environ if env is None else env
        values: dict[str, object] = {
            "api_key": env.get("OPENAI_API_KEY") or None,
            "base_url": env.get("OPENAI_BASE_URL") or None,
        }
        optional = {
            "model": "OPENAI_MODEL",
            "budget_seconds": "INFERENCE_LENS_LLM_BUDGET",
            "request_timeout": "INFERENCE_LENS_LLM_TIMEOUT",
        }
        values |= {field: env[name] for field, name in optional.items() if env.get(name)}
        return cls.model_validate(values)
