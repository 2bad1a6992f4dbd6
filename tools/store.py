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

import hashlib
import json
import logging
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path

import platformdirs
import sqlite_utils
from pydantic import BaseModel
from pysqlite3 import dbapi2 as sqlite3

from tools import importing, keyed, storefile
from tools.dataio import gc_paused, load_files, read_file, shipped_files, validate
from tools.errors import ForeignDatabase, IncompatibleSchema, NewerSchema
from tools.events import record_changes
from tools.keyed import KEYS_PER_QUERY, KINDS
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


class Store:
    """The project's database. Open with `Store.open()`; safe to use from any thread."""

    def __init__(
        self,
        path: Path,
        revision_hooks: list[importing.RevisionHook] | None = None,
        *,
        newer: storefile.Identity | None = None,
    ) -> None:
        self.path = path
        # Set when a newer build made the database: it is then read, never written.
        self.newer = newer
        self._local = threading.local()
        self._universe: Universe | None = None
        # The snapshot rows of the published revision read last, by (company, period).
        self._rows: tuple[int, dict[tuple[str, str], keyed.Row]] | None = None
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
        self._refuse_newer()
        with storefile.translated(self.path):
            db = self.db
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.rollback()
                raise
            db.commit()

    @contextmanager
    def staging(self) -> Iterator[sqlite_utils.Database]:
        """A write transaction for rows of a revision not yet published (tools.importing):
        foreign keys are off for it, as the revision's own row is inserted when it is."""
        db = self.db
        db.execute("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction: set before
        try:
            with self.write() as staged:
                yield staged
        finally:
            db.execute("PRAGMA foreign_keys=ON")

    def _refuse_newer(self) -> None:
        if self.newer is not None:
            found = len(self.newer.migrations)
            raise NewerSchema(self.path, found=found, known=len(MIGRATIONS))

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
                        {"name": migration.__name__, "applied_at": importing.now()}
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

    def _bodies(self, table: str, revision: int) -> dict[tuple[str, ...], str]:
        """Each record's latest body at or before a revision."""
        keys = ", ".join(KINDS[table])
        sql = f"""
            SELECT {keys}, body FROM (
                SELECT *, row_number() OVER (PARTITION BY {keys} ORDER BY revision_id DESC) AS n
                FROM [{table}] WHERE revision_id <= :rev
            ) WHERE n = 1
        """
        rows = self.db.execute(sql, {"rev": revision})
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
        # Rows above the latest revision are an import's, not yet published (tools.importing).
        upto = 0 if rev is None else rev
        thresholds = self._bodies("thresholds", upto).get(("default",))
        universe = Universe(
            sources={
                k[0]: Source.model_validate_json(b)
                for k, b in self._bodies("sources", upto).items()
            },
            fx={
                (k[0], k[1]): FxRate.model_validate_json(b)
                for k, b in self._bodies("fx", upto).items()
            },
            thresholds=Thresholds.model_validate_json(thresholds) if thresholds else Thresholds(),
            names=self._display_names(upto),
            loaders=Loaders(
                companies=lambda: self._companies(upto),
                info=lambda: {
                    k[0]: CompanyInfo.model_validate_json(b)
                    for k, b in sorted(self._bodies("companies", upto).items())
                },
                rows=lambda: self._snapshot_rows(upto),
                some=lambda ids: self._some(ids, upto),
            ),
            revision=rev,
        )
        if rev == latest:
            self._universe = universe
        return universe

    def _display_names(self, revision: int) -> DisplayNames:
        names: dict[str, dict[str, Text]] = {"fact": {}, "unit": {}}
        for (kind, key), body in sorted(self._bodies("display_names", revision).items()):
            names[kind][key] = Text.model_validate_json(body)
        return DisplayNames(facts=names["fact"], units=names["unit"])

    def _snapshot_rows(self, revision: int) -> list[keyed.Row]:
        """(company, period, currency, numbers) of every current snapshot: a Frame's input.

        A history walks the revisions in order: from the rows of the revision read before,
        only the snapshots its successors changed are read (by key, from their lists of
        changes), not every snapshot again (150,000 rows per revision at 50,000 companies)."""
        rows = self._rows_since(revision)
        if rows is None:
            rows = {(r[0], r[1]): r for r in keyed.numbers(self.db, revision)}
        if revision <= (self.latest_revision() or 0):  # published: its rows never change
            self._rows = (revision, rows)
        return list(rows.values())

    def _rows_since(self, revision: int) -> dict[tuple[str, str], keyed.Row] | None:
        """The rows at a revision from the last ones read, or None when these are of a
        later revision or a revision between is not published (an import's, being written)."""
        last = self._rows
        if last is None or last[0] > revision:
            return None
        since, rows = last
        sql = "SELECT changes FROM revisions WHERE id > ? AND id <= ?"
        lists = [json.loads(c) for (c,) in self.db.execute(sql, [since, revision])]
        if len(lists) != revision - since:
            return None
        prefix = "snapshots "  # a change reads "snapshots <company>/<period>"
        ids = sorted(
            {c[len(prefix) :].split("/")[0] for x in lists for c in x if c.startswith(prefix)}
        )
        out = dict(rows)
        for start in range(0, len(ids), KEYS_PER_QUERY):
            for row in keyed.numbers(self.db, revision, ids[start : start + KEYS_PER_QUERY]):
                out[(row[0], row[1])] = row
        return out

    def _companies(self, revision: int) -> dict[str, Company]:
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

    def _some(self, ids: Collection[str], rev: int) -> dict[str, Company]:
        """These companies as of a revision, read by key (no other record is parsed)."""
        wanted = sorted(set(ids))
        infos: dict[str, str] = {}
        snapshots: dict[str, list[Snapshot]] = {}
        with gc_paused():
            for start in range(0, len(wanted), KEYS_PER_QUERY):
                chunk = wanted[start : start + KEYS_PER_QUERY]
                infos.update(keyed.latest(self.db, KINDS["companies"], "companies", chunk, rev))
                for cid, body in keyed.latest(self.db, KINDS["snapshots"], "snapshots", chunk, rev):
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
        """Add a revision holding every record of `ds` that differs from the current data,
        in short write transactions, published all at once (tools.importing).

        Identical data adds no revision. References are checked against the file plus the
        database; imports take turns, so a concurrent one cannot invalidate them.
        """
        self._refuse_newer()
        meta = importing.Meta(author=author, source_name=source_name, source_hash=source_hash)
        try:
            revision, changes = importing.add_revision(self, ds, meta, self.revision_hooks)
        except BaseException:
            self._universe = None  # it may hold the abandoned revision, whose id is reused
            raise
        return ImportResult(revision=revision, changes=changes)
