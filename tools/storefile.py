"""Whether a database file is ours, before anything writes to it, and SQLite's failures as
StoreErrors.

Our files carry `PRAGMA application_id = APPLICATION_ID` and `user_version` = the number of
migrations applied. Files made before the id existed are recognised by their migrations
table and stamped on open. The check opens the file read-only (`mode=ro`): switching a file
to WAL, as the store's own connections do, would already change a foreign file's header.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from pysqlite3 import dbapi2 as sqlite3

from tools.errors import (
    StoreBusy,
    StoreCorrupt,
    StoreError,
    StoreFull,
    StoreIsDirectory,
    StoreReadOnly,
)

APPLICATION_ID = 0x494C4E53  # "ILNS": Inference Lens Store
_HEADER = b"SQLite format 3\x00"


class Kind(StrEnum):
    new = "new"  # missing, empty, or an SQLite file without any table: ours to create
    ours = "ours"  # made by this build or an earlier one
    newer = "newer"  # made by a newer build
    foreign = "foreign"  # another application's


@dataclass(frozen=True)
class Identity:
    kind: Kind
    migrations: tuple[str, ...] = ()

    def readable_by(self, known: Sequence[str]) -> bool:
        """A newer schema is read only if it grew from ours: later migrations only add
        tables and columns, so what this build reads is still there."""
        return set(known) <= set(self.migrations)


def identify(path: Path, known: Sequence[str]) -> Identity:
    """What the file at `path` is, read without changing a byte of it."""
    try:
        return _identify(path, known)
    except OSError as exc:  # e.g. a file this user may not read
        raise StoreError(path, exc.strerror or str(exc)) from None


def _identify(path: Path, known: Sequence[str]) -> Identity:
    if path.is_dir():
        raise StoreIsDirectory(path)
    if not path.exists() or path.stat().st_size == 0:
        return Identity(Kind.new)
    _check_header(path)
    with translated(path), closing(_read_only(path)) as conn:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if app_id not in (0, APPLICATION_ID):
            return Identity(Kind.foreign)
        if app_id == 0 and not tables:
            return Identity(Kind.new)
        names = _migrations(conn) if "migrations" in tables else None
    if names is None or (app_id == 0 and not set(names) <= set(known)):
        # A table named `migrations` alone proves nothing (Laravel has one): ours lists ours.
        return Identity(Kind.foreign)
    kind = Kind.newer if set(names) - set(known) else Kind.ours
    return Identity(kind, tuple(names))


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def read_only_connection(path: Path) -> sqlite3.Connection:
    """A connection that cannot write, for a newer build's database."""
    with translated(path):
        return _read_only(path)


def _migrations(conn: sqlite3.Connection) -> list[str] | None:
    columns = {r[1] for r in conn.execute("PRAGMA table_info(migrations)")}
    if columns != {"name", "applied_at"}:
        return None
    return [r[0] for r in conn.execute("SELECT name FROM migrations")]


def _check_header(path: Path) -> None:
    """Refuse non-SQLite and truncated files: SQLite itself notices a missing page only
    when a query reaches it, possibly half-way through a command."""
    with path.open("rb") as file:
        header = file.read(100)
    if len(header) < 100 or not header.startswith(_HEADER):
        raise StoreCorrupt(path, "not an SQLite file")
    page_size = int.from_bytes(header[16:18]) or 65536
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32])
    # The page count is valid only when written with the current change counter, and with no
    # log left to replay: a checkpoint cut short (a full disk, after an import's chunks were
    # committed) leaves the file shorter than its header says, the pages still in the log.
    wal = path.with_name(path.name + "-wal")
    pending = wal.exists() and wal.stat().st_size > 0
    if header[92:96] == header[24:28] and path.stat().st_size < pages * page_size and not pending:
        size = path.stat().st_size
        raise StoreCorrupt(path, f"truncated: {size} of {pages * page_size} bytes")


@contextmanager
def translated(path: Path) -> Iterator[None]:
    """SQLite's and the file system's failures on `path` as StoreErrors."""
    try:
        yield
    except sqlite3.Error as exc:
        raise store_error(exc, path) from exc


def store_error(exc: sqlite3.Error, path: Path) -> StoreError:
    name = getattr(exc, "sqlite_errorname", "") or ""
    detail = str(exc)
    if name.startswith("SQLITE_FULL"):
        return StoreFull(path)
    if name.startswith("SQLITE_READONLY") or (
        name.startswith("SQLITE_CANTOPEN") and not writable(path)
    ):
        return StoreReadOnly(path)
    if name.startswith(("SQLITE_NOTADB", "SQLITE_CORRUPT")):
        return StoreCorrupt(path, detail)
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return StoreBusy(path)
    return StoreError(path, detail)


def os_error(exc: OSError, path: Path) -> StoreError:
    """A failure to create the database's directory."""
    if isinstance(exc, FileExistsError):  # mkdir(exist_ok=True) met a file on the way
        return StoreError(path, os.strerror(errno.ENOTDIR))
    if not writable(path):
        return StoreReadOnly(path)
    return StoreError(path, exc.strerror or str(exc))


def writable(path: Path) -> bool:
    """Whether SQLite may write the file and its directory (the journal lives beside it).
    `os.access` also answers False on a read-only mount, for root too."""
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    file_ok = not path.exists() or os.access(path, os.W_OK)
    return file_ok and os.access(folder, os.W_OK)
