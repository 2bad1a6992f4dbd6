"""Change detection at import (issue 5): events with deterministic ids, attribution and
confidence, one outbox message per following chat (issue 17), all in the revision's
transaction."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import bot_rows, company

from bot.alerts.outbox import claim, fan_out, release_claims
from bot.alerts.subscriptions import subscribe, unsubscribe
from tools.events import AlertEvent
from tools.store import Store

DEFAULT = "self_use_inference_share"


def first_data(make_dataset):
    return make_dataset(
        company("a", 0.6, spread=0.05),
        company("b", 0.4, 0.25, spread=0.05),
        company("c", 0.2, spread=0.05),
    )


def b_overtakes_a(make_dataset):
    """b passes a, turns from dual to self_user, and its share moves 30 points."""
    return make_dataset(company("b", 0.7, 0.05, spread=0.05))


def fresh(path: Path, make_dataset) -> Store:
    """The first data, and a chat following company c (which does not move)."""
    store = Store.open(path, seed=False)
    store.import_dataset(first_data(make_dataset), author="cli", source_name="1", source_hash="1")
    subscribe(store, 99, "c", DEFAULT, "en")
    return store


def events(store: Store) -> dict[str, AlertEvent]:
    rows = store.db.execute("SELECT body FROM alert_events ORDER BY id").fetchall()
    return {e.id: e for e in (AlertEvent.model_validate_json(b) for (b,) in rows)}


def outbox(store: Store) -> dict[int, set[str]]:
    """The events of each chat's pending message (claimed, then put back)."""
    fan_out(store)
    statuses = bot_rows(store, "SELECT DISTINCT status FROM alert_messages")
    assert set(statuses) <= {("pending",)}
    got: dict[int, set[str]] = {}
    while (batch := claim(store, time.time() + 3600)) is not None:
        assert batch.chat_id not in got, "one message per chat and revision"
        got[batch.chat_id] = {e.id for e in batch.events}
    release_claims(store)
    return got


def test_first_revision_makes_no_events(tmp_path, make_dataset):
    store = fresh(tmp_path / "a.db", make_dataset)
    assert events(store) == {} and outbox(store) == {}


def test_without_subscribers_nothing_is_computed(tmp_path, make_dataset):
    store = fresh(tmp_path / "a.db", make_dataset)
    unsubscribe(store, 99, everything=True)
    store.import_dataset(
        b_overtakes_a(make_dataset), author="cli", source_name="2", source_hash="2"
    )
    assert events(store) == {} and outbox(store) == {}


def test_events_name_who_moved_why_and_how_sure(tmp_path, make_dataset):
    store = fresh(tmp_path / "a.db", make_dataset)
    store.import_dataset(
        b_overtakes_a(make_dataset), author="cli", source_name="2", source_hash="2"
    )
    got = events(store)
    assert set(got) == {
        f"r2:order:b:{DEFAULT}",
        f"r2:order:a:{DEFAULT}",
        "r2:archetype:b",
        f"r2:metric:b:{DEFAULT}",
    }
    b = got[f"r2:order:b:{DEFAULT}"]
    assert (b.old_rank, b.new_rank, b.total) == (2, 1, 3)
    assert (b.old_value, b.new_value, b.new_period) == (0.4, 0.7, "2025")
    assert {c.field: (c.old, c.new) for c in b.changes}["allocation.own_inference"] == (0.4, 0.7)
    [vs_a] = b.confidence
    assert (vs_a.company, vs_a.above) == ("a", True) and vs_a.p > 0.95
    a = got[f"r2:order:a:{DEFAULT}"]
    assert (a.old_rank, a.new_rank) == (1, 2) and a.changes == []
    assert a.confidence[0].above is False and a.confidence[0].p > 0.95  # P(b above a)
    arch = got["r2:archetype:b"]
    assert (arch.old_archetype, arch.new_archetype) == ("dual", "self_user")
    assert arch.confidence == []


def test_one_message_per_following_chat_with_the_events_it_follows(tmp_path, make_dataset):
    store = fresh(tmp_path / "a.db", make_dataset)
    subscribe(store, 1, None, DEFAULT, "en")  # the whole ranking
    subscribe(store, 2, "b", DEFAULT, "zh")
    subscribe(store, 3, "c", DEFAULT, "en")  # c does not move
    subscribe(store, 4, "b", "external_supply_share", "en")
    subscribe(store, 5, None, DEFAULT, "en")  # both the ranking and b: each event once
    subscribe(store, 5, "b", DEFAULT, "en")
    store.import_dataset(
        b_overtakes_a(make_dataset), author="cli", source_name="2", source_hash="2"
    )
    default = {f"r2:order:b:{DEFAULT}", f"r2:order:a:{DEFAULT}", "r2:archetype:b"}
    default.add(f"r2:metric:b:{DEFAULT}")
    assert outbox(store) == {
        1: default,
        2: default - {f"r2:order:a:{DEFAULT}"},
        4: {"r2:archetype:b", "r2:metric:b:external_supply_share"},
        5: default,
    }
    assert bot_rows(store, "SELECT lang FROM alert_messages WHERE chat_id = 2") == [("zh",)]
    assert bot_rows(store, "SELECT count(*) FROM alert_messages") == [(4,)]


def test_ids_and_bodies_are_deterministic(tmp_path, make_dataset):
    bodies = []
    for name in ("x.db", "y.db"):
        store = fresh(tmp_path / name, make_dataset)
        store.import_dataset(
            b_overtakes_a(make_dataset), author="cli", source_name="2", source_hash="2"
        )
        bodies.append(store.db.execute("SELECT id, body FROM alert_events ORDER BY id").fetchall())
    assert bodies[0] == bodies[1] and bodies[0]


def test_identical_reimport_makes_no_events(tmp_path, make_dataset):
    store = fresh(tmp_path / "a.db", make_dataset)
    subscribe(store, 1, None, DEFAULT, "en")
    result = store.import_dataset(
        first_data(make_dataset), author="cli", source_name="1", source_hash="1"
    )
    assert result.revision is None
    assert events(store) == {} and outbox(store) == {}


def test_a_failing_hook_rolls_the_revision_back(tmp_path, make_dataset):
    store = fresh(tmp_path / "a.db", make_dataset)
    subscribe(store, 1, None, DEFAULT, "en")

    def boom(store: Store, previous: int | None, revision: int) -> None:
        raise RuntimeError("after the events were written")

    store.revision_hooks.append(boom)  # runs after record_changes has written its rows
    with pytest.raises(RuntimeError):
        store.import_dataset(
            b_overtakes_a(make_dataset), author="cli", source_name="2", source_hash="2"
        )
    assert store.latest_revision() == 1
    assert events(store) == {} and outbox(store) == {}
    assert store.universe().companies["b"].snapshots[-1].allocation.own_inference.value == 0.4
    store.revision_hooks.remove(boom)
    store.import_dataset(
        b_overtakes_a(make_dataset), author="cli", source_name="2", source_hash="2"
    )
    assert store.latest_revision() == 2 and len(outbox(store)[1]) == 4
    assert store.universe().companies["b"].snapshots[-1].allocation.own_inference.value == 0.7


def test_a_newcomer_moves_nobody_else(tmp_path, make_dataset):
    store = fresh(tmp_path / "a.db", make_dataset)
    store.import_dataset(
        make_dataset(company("d", 0.9)), author="cli", source_name="2", source_hash="2"
    )
    got = events(store)
    assert set(got) == {f"r2:order:d:{DEFAULT}"}  # a, b and c only shifted down a place
    d = got[f"r2:order:d:{DEFAULT}"]
    assert (d.old_rank, d.new_rank, d.total) == (None, 1, 4)


def test_events_for_every_followed_metric(tmp_path, make_dataset):
    store = fresh(tmp_path / "a.db", make_dataset)
    subscribe(store, 1, None, "external_supply_share", "en")
    # c starts selling half its compute: first by external supply share, no default change
    store.import_dataset(
        make_dataset(company("c", 0.2, 0.5, spread=0.05)),
        author="cli",
        source_name="2",
        source_hash="2",
    )
    ids = set(events(store))
    assert "r2:order:c:external_supply_share" in ids
    assert "r2:archetype:c" in ids  # c became a supplier
    assert outbox(store)[1] >= {"r2:order:c:external_supply_share", "r2:archetype:c"}
