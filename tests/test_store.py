"""The versioned store: revisions, no overwrites, past states, migrations, threads."""

from __future__ import annotations

import asyncio
import math
import sqlite3

from conftest import company

from tools.importing import CHUNK_ROWS
from tools.migrations import MIGRATIONS
from tools.models import Dataset
from tools.store import Store
from tools.storefile import APPLICATION_ID


def test_new_database_is_loaded_with_shipped_data(store: Store):
    revisions = store.revisions()
    assert len(revisions) == 1
    assert revisions[0].author == "cli" and revisions[0].source_name == "shipped data"
    assert "xiaomi" in store.universe().companies


def test_wal_foreign_keys_and_schema_version(store: Store):
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.schema_version() == len(MIGRATIONS)
    assert store.db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert store.migrate() == []  # idempotent


def test_import_adds_revision_and_keeps_the_past(tmp_path, make_dataset):
    store = Store.open(tmp_path / "v.db", seed=False)
    first = store.import_dataset(
        make_dataset(company("a", 0.5)), author="cli", source_name="one", source_hash="h1"
    )
    second = store.import_dataset(
        make_dataset(company("a", 0.6)), author="42", source_name="two", source_hash="h2"
    )
    assert (first.revision, second.revision) == (1, 2)
    assert second.changes == ["snapshots a/2025"]
    now = (
        store.universe().assess(store.universe().companies["a"]).metrics["self_use_inference_share"]
    )
    then_u = store.universe(1)
    then = then_u.assess(then_u.companies["a"]).metrics["self_use_inference_share"]
    assert (then, now) == (0.5, 0.6)
    rows = store.db.execute("SELECT count(*) FROM snapshots WHERE company_id = 'a'").fetchone()[0]
    assert rows == 2  # nothing overwritten
    assert [r.author for r in store.revisions()] == ["cli", "42"]


def test_identical_reimport_creates_no_revision(tmp_path, make_dataset):
    store = Store.open(tmp_path / "v.db", seed=False)
    ds = make_dataset(company("a", 0.5), company("b", 0.2))
    assert store.import_dataset(ds, author="cli", source_name="x", source_hash="h").revision == 1
    again = store.import_dataset(ds, author="cli", source_name="x", source_hash="h")
    assert again.revision is None and again.changes == []
    assert len(store.revisions()) == 1


def test_partial_file_references_earlier_imports(tmp_path, make_dataset):
    store = Store.open(tmp_path / "v.db", seed=False)
    store.import_dataset(
        make_dataset(company("a", 0.5)), author="cli", source_name="x", source_hash="h"
    )
    # a later file carries just one company and cites a source stored by the first import
    only_company = Dataset.model_validate({"companies": [company("b", 0.3)]})
    result = store.import_dataset(only_company, author="cli", source_name="y", source_hash="h2")
    assert result.changes == ["companies b", "snapshots b/2025"]
    assert set(store.universe().companies) == {"a", "b"}


def test_large_import_writes_in_short_transactions(tmp_path, make_dataset):
    # one transaction held the write lock for the whole import (~10 s at 50,000 companies)
    store = Store.open(tmp_path / "v.db", seed=False)
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    ds = make_dataset(*(company(f"c{i}", 0.5) for i in range(1_500)))
    store.import_dataset(ds, author="cli", source_name="big", source_hash="h")
    transactions: list[list[str]] = []
    for s in statements:
        if s.startswith("BEGIN"):
            transactions.append([])
        elif transactions and not s.startswith("COMMIT"):
            transactions[-1].append(s)
    # companies and snapshots, CHUNK_ROWS a transaction each, then one to publish
    assert len(transactions) >= 2 * math.ceil(1_500 / CHUNK_ROWS) + 1
    # the revision appears in the last one, after every row it holds was written
    last = [s for s in transactions[-1] if s.startswith("INSERT")]
    assert len(last) == 1 and last[0].startswith('INSERT INTO "revisions"')
    assert not any('"revisions"' in s for t in transactions[:-1] for s in t)


def test_usable_from_worker_threads(store: Store):
    async def main() -> list[int]:
        return await asyncio.gather(
            *(asyncio.to_thread(lambda: len(store.universe().companies)) for _ in range(8))
        )

    counts = asyncio.run(main())
    assert len(set(counts)) == 1 and counts[0] > 0


def test_other_process_sees_writes(store: Store, make_dataset):
    other = Store.open(store.path)
    store.import_dataset(
        make_dataset(company("zz", 0.5)), author="cli", source_name="x", source_hash="h"
    )
    assert "zz" in other.universe().companies


def test_revisions_reference_existing_rows(store: Store):
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
