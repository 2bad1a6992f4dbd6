"""Shared fixtures: every test gets its own database file; nothing touches the user's data dir."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_telegram import FakeTelegram

from tools import botfile
from tools.models import Dataset
from tools.store import Store


@pytest.fixture(autouse=True)
def isolated_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "lens.db"
    monkeypatch.setenv("INFERENCE_LENS_DB", str(path))
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    return path


def bot_rows(store: Store, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """A query of the bot's file beside the store (subscriptions, outbox, users: tools.botfile)."""
    with botfile.of(store).reading() as db:
        return db.execute(sql, params or []).fetchall()


@pytest.fixture
def store(isolated_db: Path) -> Store:
    """A database loaded with the shipped data."""
    return Store.open(isolated_db)


# Fixture figures' note, in both languages as shipped data must be (check warns otherwise).
NOTE = {"zh": "测试", "en": "test"}


def share(
    value: float, low: float | None = None, high: float | None = None, **extra: Any
) -> dict[str, Any]:
    return {"value": value, "low": low, "high": high, "sources": ["src"], "note": NOTE, **extra}


def company(
    cid: str,
    own_inference: float,
    external_iaas: float = 0.0,
    external_maas: float = 0.0,
    *,
    edge: float = 0.0,
    period: str = "2025",
    capex: float = 1e9,
    currency: str = "USD",
    region: str = "US",
    spread: float = 0.0,
    **extra: Any,
) -> dict[str, Any]:
    """A company record with one snapshot; own_training takes whatever the shares leave."""
    training = round(1 - own_inference - external_iaas - external_maas, 10)

    def s(v: float) -> dict[str, Any]:
        return share(v, max(v - spread, 0), min(v + spread, 1)) if spread else share(v)

    rest = round(1 - edge, 10)
    return {
        "id": cid,
        "name": {"zh": f"{cid}公司", "en": cid.title()},
        "region": region,
        "snapshots": [
            {
                "period": period,
                "ai_capex": {
                    "value": capex,
                    "currency": currency,
                    "sources": ["src"],
                    "note": NOTE,
                },
                "allocation": {
                    "own_training": s(training),
                    "own_inference": s(own_inference),
                    "external_iaas": s(external_iaas),
                    "external_maas": s(external_maas),
                },
                "layer_mix": {
                    "iaas": share(0.0),
                    "maas": share(0.0),
                    "solutions": share(rest),
                    "edge": share(edge),
                },
            }
        ],
        **extra,
    }


BASE: dict[str, Any] = {
    "sources": [{"id": "src", "title": "Test source", "publisher": "Tests", "kind": "analyst"}],
    "fx": [
        {"period": p, "currency": c, "usd_per_unit": r}
        for p in ("2024", "2025")
        for c, r in (("USD", 1.0), ("CNY", 0.14))
    ],
}


@pytest.fixture
def make_dataset() -> Callable[..., Dataset]:
    def build(*companies: dict[str, Any], **sections: Any) -> Dataset:
        return Dataset.model_validate({**BASE, **sections, "companies": list(companies)})

    return build


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    """A fake Telegram Bot API server on loopback (see tests/fake_telegram.py)."""
    with FakeTelegram() as server:
        yield server
