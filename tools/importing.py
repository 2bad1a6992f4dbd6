"""An import as short write transactions: prepared outside any, written in chunks that readers
do not see, published by one short transaction at the end.

Readers see the data up to the latest revision (`revision_id <= max(revisions.id)`, tools.store).
An import writes its rows under the next revision id before that revision exists, a thousand
rows per transaction (foreign keys off for them: they reference the revisions row that the
publishing transaction inserts), so a bot writing beside it waits for one chunk at most, not
for the whole import, and no reader sees half of it. A failed import removes its rows; a killed
one leaves them above the latest revision, invisible, and the next import removes them before
writing its own. Imports take turns on a lock file beside the database, so one import's rows
are never taken for another's.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import itertools
import json
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import sqlite_utils

from tools import storefile
from tools.dataio import check_references
from tools.errors import StoreError
from tools.frame import encode
from tools.keyed import KEYS_PER_QUERY, KINDS, latest_records
from tools.models import Dataset, Snapshot
from tools.universe import Universe

# Rows per staging transaction: some tens of milliseconds of writing, a short wait for others.
CHUNK_ROWS = 1_000


class Target(Protocol):
    """What an import needs of the store (the store imports this module, not back)."""

    path: Path

    @property
    def db(self) -> sqlite_utils.Database: ...

    def write(self) -> AbstractContextManager[sqlite_utils.Database]: ...

    def staging(self) -> AbstractContextManager[sqlite_utils.Database]: ...

    def latest_revision(self) -> int | None: ...

    def universe(self, revision: int | None = None) -> Universe: ...


# Runs once an import's rows are staged, outside any transaction (store, previous revision,
# new revision): it may stage rows of its own (`stage`), published with the revision's. An
# exception abandons the import, its rows and the hook's.
RevisionHook = Callable[[Target, int | None, int], None]


@dataclass(frozen=True)
class Meta:
    """Where a revision came from."""

    author: str
    source_name: str
    source_hash: str


def add_revision(
    store: Target, ds: Dataset, meta: Meta, hooks: Iterable[RevisionHook]
) -> tuple[int | None, list[str]]:
    """Add a revision holding every record of `ds` that differs from the current data (none
    when nothing differs); returns it and its changes. Raises DataError for bad references."""
    records = _records(ds)  # serialised before any lock is taken
    numbers = {(c.id, s.period): _numbers(s) for c in ds.companies for s in c.snapshots}
    with _turn(store.path):
        previous = store.latest_revision()
        drop_unpublished(store, previous)
        sources = {r[0] for r in store.db.execute("SELECT DISTINCT id FROM sources")}
        fx = {(p, c) for p, c in store.db.execute("SELECT DISTINCT period, currency FROM fx")}
        check_references(ds, sources, fx, meta.source_name)
        changed = {table: _changed(store.db, table, rows) for table, rows in records.items()}
        changes = [f"{table} {'/'.join(key)}" for table, rows in changed.items() for key in rows]
        if not changes:
            return None, []
        revision = (previous or 0) + 1
        try:
            for table, rows in changed.items():
                stage(store, table, _rows(table, rows, numbers, revision))
            for hook in hooks:
                hook(store, previous, revision)
            with store.write() as db:
                db.table("revisions").insert(
                    {"id": revision, "created_at": now(), **vars(meta)}
                    | {"changes": json.dumps(changes, ensure_ascii=False)}
                )
        except BaseException:
            with suppress(StoreError):  # a full disk: the next import removes them
                drop_unpublished(store, previous)
            raise
    return revision, changes


def stage(store: Target, table: str, rows: Iterable[dict[str, Any]]) -> None:
    """Write rows of a revision not yet published, CHUNK_ROWS per short transaction."""
    batch = iter(rows)
    while chunk := list(itertools.islice(batch, CHUNK_ROWS)):
        with store.staging() as db:
            db.table(table).insert_all(chunk)


def drop_unpublished(store: Target, latest: int | None) -> None:
    """Remove the rows above the latest revision (a failed or killed import's), a chunk per
    transaction: no reader sees them, so they may go in several."""
    for table in _revisioned(store.db):
        sql = f"SELECT rowid FROM [{table}] WHERE revision_id > ? LIMIT {CHUNK_ROWS}"
        while rowids := [r[0] for r in store.db.execute(sql, [latest or 0])]:
            with store.staging() as db:
                marks = ", ".join("?" * len(rowids))
                db.execute(f"DELETE FROM [{table}] WHERE rowid IN ({marks})", rowids)


def _revisioned(db: sqlite_utils.Database) -> list[str]:
    """The tables whose rows belong to a revision (versioned records, alert events...)."""
    return [
        name
        for name in db.table_names()
        if any(fk.other_table == "revisions" for fk in db.table(name).foreign_keys)
    ]


@contextmanager
def _turn(path: Path) -> Iterator[None]:
    """One import at a time on this database, across processes: a lock on a file beside it
    (the system releases it when the process dies, so a killed import blocks nobody)."""
    lock = path.with_name(path.name + ".import.lock")
    try:
        file = lock.open("a")
    except OSError as exc:
        raise storefile.os_error(exc, path) from None
    with file:
        fcntl.flock(file, fcntl.LOCK_EX)
        yield


def _changed(
    db: sqlite_utils.Database, table: str, rows: dict[tuple[str, ...], str]
) -> dict[tuple[str, ...], str]:
    current = _current(db, table, rows)
    return {key: body for key, body in rows.items() if current.get(key) != body}


def _current(
    db: sqlite_utils.Database, table: str, keys: Collection[tuple[str, ...]]
) -> dict[tuple[str, ...], str]:
    """The latest body of each of these records, read by key: an import's cost grows
    with its file, not with the database (all 150,000 bodies at 50,000 companies)."""
    firsts = sorted({key[0] for key in keys})
    out: dict[tuple[str, ...], str] = {}
    for start in range(0, len(firsts), KEYS_PER_QUERY):
        chunk = firsts[start : start + KEYS_PER_QUERY]
        out.update(latest_records(db, KINDS[table], table, chunk))
    return out


def _rows(
    table: str,
    bodies: dict[tuple[str, ...], str],
    numbers: dict[tuple[str, str], dict[str, str | bytes]],
    revision: int,
) -> Iterator[dict[str, Any]]:
    keys = KINDS[table]
    for key, body in bodies.items():
        extra = numbers[(key[0], key[1])] if table == "snapshots" else {}
        yield {**dict(zip(keys, key, strict=True)), "revision_id": revision, "body": body, **extra}


def _records(ds: Dataset) -> dict[str, dict[tuple[str, ...], str]]:
    """A dataset as versioned records: {table: {key: canonical JSON body}}."""
    return {
        "companies": {(c.id,): c.model_dump_json(exclude={"snapshots"}) for c in ds.companies},
        "snapshots": {
            (c.id, s.period): s.model_dump_json() for c in ds.companies for s in c.snapshots
        },
        "sources": {(s.id,): s.model_dump_json() for s in ds.sources},
        "fx": {(f.period, f.currency): f.model_dump_json() for f in ds.fx},
        "thresholds": {("default",): ds.thresholds.model_dump_json()} if ds.thresholds else {},
        "display_names": {
            **{("fact", k): text.model_dump_json() for k, text in ds.facts.items()},
            **{("unit", k): text.model_dump_json() for k, text in ds.units.items()},
        },
    }


def _numbers(snap: Snapshot) -> dict[str, str | bytes]:
    return {"currency": snap.ai_capex.currency, "numbers": encode(snap)}


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
