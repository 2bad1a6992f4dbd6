"""An import in short write transactions (issue 17): a writer beside it waits for one chunk,
not for the whole import; readers see the store before or after it, never half; a killed
import leaves the store as it was. Real CLI imports in subprocesses, real SQLite files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import company
from pysqlite3 import dbapi2 as sqlite3

from tools.store import Store

CLI = Path(sys.executable).parent / "inference-lens"
COMPANIES = 2_000  # 4,000 snapshots: several chunks of rows to stage
WAIT_MAX_S = 2.0  # the bound on how long a bot waits for the import's write lock


def big_file(tmp_path: Path, make_dataset, prefix: str = "n") -> Path:
    many = []
    for i in range(COMPANIES):
        record = company(f"{prefix}{i:04d}", 0.1 + i % 800 / 1000, spread=0.02, period="2024")
        record["snapshots"] += company("x", 0.2 + i % 700 / 1000, period="2025")["snapshots"]
        many.append(record)
    path = tmp_path / f"{prefix}-many.json"
    path.write_text(make_dataset(*many).model_dump_json(exclude_none=True), encoding="utf-8")
    return path


def start_import(db: Path, data: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(CLI), "--db", str(db), "import", str(data)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def rows(db: Path, table: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def test_a_writer_waits_for_a_chunk_and_readers_never_see_half(
    store: Store, tmp_path, make_dataset
):
    data = big_file(tmp_path, make_dataset)
    before = len(store.universe().info)
    waits: list[float] = []
    seen: list[tuple[int, int]] = []
    done = threading.Event()

    def write_beside() -> None:
        """A bot's small writes (a user's language), one every 50 ms, each timed."""
        conn = sqlite3.connect(store.path, timeout=30, isolation_level=None)
        while not done.is_set():
            start = time.monotonic()
            conn.execute("BEGIN IMMEDIATE")
            waits.append(time.monotonic() - start)
            conn.execute("INSERT OR REPLACE INTO bot_users VALUES (1, 'en', 'now')")
            conn.execute("COMMIT")
            time.sleep(0.05)

    def read_beside() -> None:
        """What a reader sees: the revision, and how many companies it holds."""
        reader = Store.open(store.path)
        while not done.is_set():
            revision = reader.latest_revision()
            assert revision is not None
            seen.append((revision, len(reader.universe(revision).frame())))

    threads = [threading.Thread(target=f) for f in (write_beside, read_beside)]
    for thread in threads:
        thread.start()
    importing = start_import(store.path, data)
    try:
        assert importing.wait(timeout=300) == 0, importing.stderr
    finally:
        done.set()
        for thread in threads:
            thread.join()
    assert len(waits) > 20 and max(waits) < WAIT_MAX_S, max(waits)
    assert set(seen) <= {(1, before), (2, before + COMPANIES)}
    assert (1, before) in seen and (2, before + COMPANIES) in seen


def test_a_killed_import_leaves_the_store_as_it_was(store: Store, tmp_path, make_dataset):
    data = big_file(tmp_path, make_dataset)
    ranking = json.loads(cli(store.path, "rank", "--json"))
    snapshots = rows(store.path, "snapshots")
    importing = start_import(store.path, data)
    while rows(store.path, "snapshots") == snapshots:  # killed once it has written some rows
        assert importing.poll() is None, "the import ended before it could be killed"
        time.sleep(0.005)
    os.kill(importing.pid, signal.SIGKILL)
    importing.wait()
    assert rows(store.path, "snapshots") > snapshots  # its rows are there, unpublished
    assert [r.id for r in Store.open(store.path).revisions()] == [1]
    assert json.loads(cli(store.path, "rank", "--json")) == ranking
    # the next import removes them before writing its own: a smaller file, other companies
    few = tmp_path / "few.json"
    few.write_text(make_dataset(company("late", 0.5)).model_dump_json(exclude_none=True))
    cli(store.path, "import", str(few))
    after = Store.open(store.path)
    assert [r.id for r in after.revisions()] == [1, 2]
    assert rows(store.path, "snapshots") == snapshots + 1
    assert set(after.universe().info) - set(store.universe(1).info) == {"late"}


def test_a_failed_import_removes_its_rows(store: Store, make_dataset):
    snapshots = rows(store.path, "snapshots")

    def boom(store: Store, previous: int | None, revision: int) -> None:
        assert rows(store.path, "snapshots") > snapshots  # runs once the rows are staged
        raise RuntimeError("a hook failed")

    store.revision_hooks.append(boom)
    many = make_dataset(*(company(f"c{i}", 0.5) for i in range(50)))
    with pytest.raises(RuntimeError):
        store.import_dataset(many, author="cli", source_name="x", source_hash="h")
    assert rows(store.path, "snapshots") == snapshots
    assert [r.id for r in store.revisions()] == [1]


def cli(db: Path, *args: str) -> str:
    result = subprocess.run(
        [str(CLI), "--db", str(db), *args], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
