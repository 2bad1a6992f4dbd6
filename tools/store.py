"""The SQLite store: versioned data (every import adds a revision, nothing is overwritten).

Each record (company, company-period snapshot, source, FX rate, thresholds) is kept as one
JSON body per revision that changed it; the current value of a record is its body at the
latest revision, and the state at revision R is the latest body at or before R. So every
past ranking can be recomputed.

Connections are per thread: sqlite3 refuses to share one across threads, and the bot calls
the store from `asyncio.to_thread` workers.

SQLite comes from the pysqlite3 wheel (3.53), not the system library (3.40 on Debian 12):
releases before 3.51.3 can corrupt a WAL database when two connections write and checkpoint
at the same moment (https://sqlite.org/wal.html#walresetbug), and the bot and the CLI write
this file from two processes. sqlite-utils uses pysqlite3 too when it is installed, so the
errors it catches are the ones our connections raise.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs
import sqlite_utils
from pydantic import BaseModel
from pysqlite3 import dbapi2 as sqlite3

from tools import keyed, storefile
from tools.dataio import (
    check_references,
    gc_paused,
    load_files,
    read_file,
    shipped_files,
    validate,
)
from tools.errors import ForeignDatabase, IncompatibleSchema, NewerSchema
from tools.events import record_changes
from tools.frame import encode
from tools.migrations import MIGRATIONS
from tools.models import (
    TRUSTED,
    Company,
    CompanyInfo,
    Dataset,
    DisplayNames,
    FxRate,
    Snapshot,
    Source,
    Text,
    Thresholds,
)
from tools.universe import Loaders, Universe

log = logging.getLogger(__name__)
BUSY_TIMEOUT_MS = 10_000
WAL_RESET_FIXED = (3, 51, 3)  # the first SQLite without the WAL-reset corruption bug
# Runs inside an import's write transaction (store, previous revision, new revision): what it
# writes commits with the revision, and an exception rolls the whole import back.
RevisionHook = Callable[["Store", int | None, int], None]


def default_path() -> Path:
    """The platform's per-user data directory (the program's settings may name another)."""
    return Path(platformdirs.user_data_dir("inference-lens")) / "inference-lens.db"


class Revision(BaseModel):
    id: int
    created_at: str
    author: str
    source_name: str
    source_hash: str
    changes: list[str]


class ImportResult(BaseModel):
    revision: int | None
    changes: list[str]


_KEYS_PER_QUERY = 500  # ids bound in one `IN (...)`, well under SQLite's variable limit

# Record kinds, their key columns, and how a body is rebuilt.
_KINDS: dict[str, tuple[str, ...]] = {
    "companies": ("id",),
    "snapshots": ("company_id", "period"),
    "sources": ("id",),
    "fx": ("period", "currency"),
    "thresholds": ("id",),
    "display_names": ("kind", "key"),
}


class Store:
    """The project's database. Open with `Store.open()`; safe to use from any thread."""

    def __init__(
        self,
        path: Path,
        revision_hooks: list[RevisionHook] | None = None,
        *,
        newer: storefile.Identity | None = None,
    ) -> None:
        self.path = path
        # Set when a newer build made the database: it is then read, never written.
        self.newer = newer
        self._local = threading.local()
        self._universe: Universe | None = None
        # Every import, by the CLI or an admin's upload, records the ranking changes it makes.
        self.revision_hooks = [record_changes] if revision_hooks is None else revision_hooks

    @classmethod
    def open(cls, path: Path | str | None = None, *, seed: bool = True) -> Store:
        """Open (creating and migrating if needed); a new database gets the shipped data.

        Refuses, before writing anything, a file that is not ours (StoreError); a newer
        build's database is opened read-only.
        """
        target = Path(path) if path else default_path()
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise storefile.os_error(exc, target) from None
        if sqlite3.sqlite_version_info < WAL_RESET_FIXED:
            log.warning("SQLite %s has the WAL-reset bug; see README", sqlite3.sqlite_version)
        known = [m.__name__ for m in MIGRATIONS]
        identity = storefile.identify(target, known)
        if identity.kind is storefile.Kind.foreign:
            raise ForeignDatabase(target)
        if identity.kind is storefile.Kind.newer:
            if not identity.readable_by(known):
                raise IncompatibleSchema(target, found=len(identity.migrations), known=len(known))
            return cls(target, newer=identity)
        store = cls(target)
        store.migrate()
        if seed and store.latest_revision() is None:
            store.load_shipped()
        return store

    @property
    def db(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite_utils.Database(self._connect())
            if self.newer is None:
                db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            self._local.db = db
        return db

    def _connect(self) -> sqlite3.Connection:
        if self.newer is not None:
            return storefile.read_only_connection(self.path)
        return sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000)

    def close(self) -> None:
        """Close this thread's connection (others close with their threads)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """One write transaction, taking the write lock up front (BEGIN IMMEDIATE), so a
        read-then-write cannot interleave with another process's writer. SQLite's failures
        (read-only, disk full, locked) leave as StoreErrors, after the rollback."""
        if self.newer is not None:
            found = len(self.newer.migrations)
            raise NewerSchema(self.path, found=found, known=len(MIGRATIONS))
        with storefile.translated(self.path):
            db = self.db
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.rollback()
                raise
            db.commit()

    def migrate(self) -> list[str]:
        """Apply the migrations this database has not seen yet, and stamp it as ours with
        its schema version; returns the migrations' names."""
        with self.write() as db:
            if "migrations" not in db.table_names():
                db.table("migrations").create({"name": str, "applied_at": str}, pk="name")
            done = {r["name"] for r in db["migrations"].rows}
            applied = []
            for migration in MIGRATIONS:
                if migration.__name__ not in done:
                    migration(db)
                    db.table("migrations").insert(
                        {"name": migration.__name__, "applied_at": _now()}
                    )
                    applied.append(migration.__name__)
            stamp = {"application_id": storefile.APPLICATION_ID, "user_version": len(MIGRATIONS)}
            for pragma, value in stamp.items():
                # Set only when different, so opening an up-to-date database writes nothing.
                if db.execute(f"PRAGMA {pragma}").fetchone()[0] != value:
                    db.execute(f"PRAGMA {pragma} = {value}")
        return applied

    def schema_version(self) -> int:
        return self.db["migrations"].count

    # --- reading ---

    def latest_revision(self) -> int | None:
        row = self.db.execute("SELECT max(id) FROM revisions").fetchone()
        return row[0]

    def revisions(self) -> list[Revision]:
        rows = self.db.query("SELECT * FROM revisions ORDER BY id")
        return [Revision(**{**r, "changes": json.loads(r["changes"])}) for r in rows]

    def _bodies(self, table: str, revision: int | None) -> dict[tuple[str, ...], str]:
        """Each record's latest body at or before a revision (the latest when None)."""
        keys = ", ".join(_KINDS[table])
        sql = f"""
            SELECT {keys}, body FROM (
                SELECT *, row_number() OVER (PARTITION BY {keys} ORDER BY revision_id DESC) AS n
                FROM [{table}] WHERE revision_id <= :rev
            ) WHERE n = 1
        """
        rows = self.db.execute(sql, {"rev": revision if revision is not None else 2**62})
        return {tuple(r[:-1]): r[-1] for r in rows}

    def universe(self, revision: int | None = None) -> Universe:
        """The data as of a revision (the latest when None); the latest is cached.

        Sources, FX, thresholds and display names load now; companies, their names and the
        ranking numbers load on first use, each on the thread that asks.
        """
        latest = self.latest_revision()
        rev = latest if revision is None else revision
        cached = self._universe
        if cached is not None and cached.revision == rev:
            return cached
        thresholds = self._bodies("thresholds", rev).get(("default",))
        universe = Universe(
            sources={
                k[0]: Source.model_validate_json(b) for k, b in self._bodies("sources", rev).items()
            },
            fx={
                (k[0], k[1]): FxRate.model_validate_json(b)
                for k, b in self._bodies("fx", rev).items()
            },
            thresholds=Thresholds.model_validate_json(thresholds) if thresholds else Thresholds(),
            names=self._display_names(rev),
            loaders=Loaders(
                companies=lambda: self._companies(rev),
                info=lambda: {
                    k[0]: CompanyInfo.model_validate_json(b)
                    for k, b in sorted(self._bodies("companies", rev).items())
                },
                rows=lambda: self._snapshot_rows(rev),
                some=lambda ids: self._some(ids, rev),
            ),
            revision=rev,
        )
        if rev == latest:
            self._universe = universe
        return universe

    def _display_names(self, revision: int | None) -> DisplayNames:
        names: dict[str, dict[str, Text]] = {"fact": {}, "unit": {}}
        for (kind, key), body in sorted(self._bodies("display_names", revision).items()):
            names[kind][key] = Text.model_validate_json(body)
        return DisplayNames(facts=names["fact"], units=names["unit"])

    def _snapshot_rows(self, revision: int | None) -> list[tuple[str, str, str, bytes]]:
        """(company, period, currency, numbers) of every current snapshot: a Frame's input."""
        sql = """
            SELECT company_id, period, currency, numbers FROM (
                SELECT company_id, period, currency, numbers, row_number() OVER (
                    PARTITION BY company_id, period ORDER BY revision_id DESC) AS n
                FROM snapshots WHERE revision_id <= :rev
            ) WHERE n = 1
        """
        return self.db.execute(sql, {"rev": revision if revision is not None else 2**62}).fetchall()

    def _companies(self, revision: int | None) -> dict[str, Company]:
        snapshots: dict[str, list[Snapshot]] = {}
        with gc_paused():
            for (company_id, _), body in self._bodies("snapshots", revision).items():
                snapshots.setdefault(company_id, []).append(
                    Snapshot.model_validate_json(body, context=TRUSTED)
                )
            return {
                cid: Company.model_validate(
                    {**json.loads(body), "snapshots": snapshots[cid]}, context=TRUSTED
                )
                for (cid,), body in sorted(self._bodies("companies", revision).items())
            }

    def _some(self, ids: Collection[str], revision: int | None) -> dict[str, Company]:
        """These companies as of a revision, read by key (no other record is parsed)."""
        rev = revision if revision is not None else 2**62
        wanted = sorted(set(ids))
        infos: dict[str, str] = {}
        snapshots: dict[str, list[Snapshot]] = {}
        with gc_paused():
            for start in range(0, len(wanted), _KEYS_PER_QUERY):
                chunk = wanted[start : start + _KEYS_PER_QUERY]
                infos.update(keyed.latest(self.db, _KINDS["companies"], "companies", chunk, rev))
                for cid, body in keyed.latest(
                    self.db, _KINDS["snapshots"], "snapshots", chunk, rev
                ):
                    snap = Snapshot.model_validate_json(body, context=TRUSTED)
                    snapshots.setdefault(cid, []).append(snap)
            return {
                cid: Company.model_validate(
                    {**json.loads(body), "snapshots": snapshots[cid]}, context=TRUSTED
                )
                for cid, body in infos.items()
            }

    def export(self) -> Dataset:
        return self.universe().to_dataset()

    # --- writing ---

    def load_shipped(self) -> ImportResult:
        paths = shipped_files()
        digest = hashlib.sha256(b"".join(p.read_bytes() for p in paths)).hexdigest()
        return self.import_dataset(
            load_files(paths), author="cli", source_name="shipped data", source_hash=digest
        )

    def import_file(self, path: Path, author: str = "cli") -> ImportResult:
        """Validate a whole file, then import it in one transaction (or raise DataError)."""
        parsed = read_file(path)
        dataset, digest = validate(parsed), parsed.sha256
        del parsed  # the parsed tree is as big as the dataset: not kept through the import
        return self.import_dataset(
            dataset, author=author, source_name=path.name, source_hash=digest
        )

    def import_dataset(
        self, ds: Dataset, *, author: str, source_name: str, source_hash: str
    ) -> ImportResult:
        """Add a revision holding every record of `ds` that differs from the current data.

        Identical data adds no revision. References are checked against the file plus the
        database inside the write transaction, so a concurrent import cannot invalidate them.
        """
        try:
            revision, changes = self._add_revision(ds, author, source_name, source_hash)
        except BaseException:
            self._universe = None  # it may hold the rolled-back revision, whose id is reused
            raise
        return ImportResult(revision=revision, changes=changes)

    def _add_revision(
        self, ds: Dataset, author: str, source_name: str, source_hash: str
    ) -> tuple[int | None, list[str]]:
        # Serialised before the write lock is taken: the transaction holds it only for the
        # reads that must be consistent with the writes, and the writes.
        records = _records(ds)
        numbers: dict[tuple[str, ...], dict[str, str | bytes]] = {
            (c.id, s.period): _numbers(s) for c in ds.companies for s in c.snapshots
        }
        with self.write():
            previous = self.latest_revision()
            check_references(
                ds,
                set(self._ids("sources")),
                {(k[0], k[1]) for k in self._bodies("fx", None)},
                source_name,
            )
            changed = {table: self._changed(table, rows) for table, rows in records.items()}
            changes = [
                f"{table} {'/'.join(key)}" for table, rows in changed.items() for key in rows
            ]
            if not changes:
                return None, []
            row = {
                "created_at": _now(),
                "author": author,
                "source_name": source_name,
                "source_hash": source_hash,
                "changes": json.dumps(changes, ensure_ascii=False),
            }
            revision = self.db.table("revisions").insert(row).last_pk
            assert isinstance(revision, int)  # an INTEGER PRIMARY KEY
            for table, rows in changed.items():
                keys = _KINDS[table]
                self.db.table(table).insert_all(
                    {
                        **dict(zip(keys, key, strict=True)),
                        "revision_id": revision,
                        "body": body,
                        **(numbers[key] if table == "snapshots" else {}),
                    }
                    for key, body in rows.items()
                )
            for hook in self.revision_hooks:
                hook(self, previous, revision)
        return revision, changes

    def _ids(self, table: str) -> list[str]:
        return [key[0] for key in self._bodies(table, None)]

    def _changed(self, table: str, rows: dict[tuple[str, ...], str]) -> dict[tuple[str, ...], str]:
        current = self._current(table, rows)
        return {key: body for key, body in rows.items() if current.get(key) != body}

    def _current(self, table: str, keys: Collection[tuple[str, ...]]) -> dict[tuple[str, ...], str]:
        """The latest body of each of these records, read by key: an import's cost grows
        with its file, not with the database (all 150,000 bodies at 50,000 companies)."""
        firsts = sorted({key[0] for key in keys})
        out: dict[tuple[str, ...], str] = {}
        for start in range(0, len(firsts), _KEYS_PER_QUERY):
            chunk = firsts[start : start + _KEYS_PER_QUERY]
            out.update(keyed.latest_records(self.db, _KINDS[table], table, chunk))
        return out


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


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
