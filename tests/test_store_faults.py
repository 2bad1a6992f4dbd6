"""Fault injection: the real CLI against broken, foreign, newer and unwritable databases.

Each refusal is a clear message in the user's language, exit code 2, no traceback, and the
file byte for byte as it was. Read-only and full file systems are small tmpfs mounts (root
only); without them those cases are skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import BASE, company

from tools.migrations import MIGRATIONS
from tools.storefile import APPLICATION_ID

CLI = str(Path(sys.executable).with_name("inference-lens"))
# A distinctive phrase of each refusal, per language.
PHRASES = {
    "is_directory": {"en": "is a directory", "zh": "是一个目录"},
    "corrupt": {"en": "damaged or not an SQLite database", "zh": "已损坏"},
    "foreign": {"en": "belongs to another application", "zh": "其他应用的数据库"},
    "newer_schema": {"en": "only reads it, never writes", "zh": "只读取、不写入"},
    "incompatible_schema": {"en": "cannot read; please upgrade", "zh": "无法读取"},
    "read_only": {"en": "read-only", "zh": "只读"},
    "disk_full": {"en": "The disk is full", "zh": "磁盘已满"},
    "unavailable": {"en": "Cannot open the database", "zh": "无法打开数据库"},
}
LANGS = ["en", "zh"]


def cli(db: Path, *args: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LANG": "C.UTF-8"}
    return subprocess.run(
        [CLI, "--db", str(db), "--lang", lang, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_refused(db: Path, reason: str, lang: str, *args: str) -> None:
    """The command is refused for `reason`, and the file is unchanged."""
    before = digest(db)
    result = cli(db, *(args or ("rank",)), lang=lang)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert PHRASES[reason][lang] in result.stderr
    assert str(db) in result.stderr
    assert digest(db) == before


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database made by this build, with the shipped data."""
    db = tmp_path_factory.mktemp("ours") / "lens.db"
    assert cli(db, "rank").returncode == 0
    return db


@pytest.fixture
def copy_of(ours: Path, tmp_path: Path) -> Callable[[], Path]:
    def make() -> Path:
        target = tmp_path / f"{uuid.uuid4().hex}.db"
        shutil.copy(ours, target)
        return target

    return make


def edit(db: Path, *sql: str) -> None:
    conn = sqlite3.connect(db)
    for statement in sql:
        conn.execute(statement)
    conn.commit()
    conn.close()


@pytest.mark.parametrize("lang", LANGS)
def test_directory_as_the_path(tmp_path, lang):
    folder = tmp_path / "lens.db"
    folder.mkdir()
    result = cli(folder, "rank", lang=lang)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert PHRASES["is_directory"][lang] in result.stderr
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("lang", LANGS)
def test_path_below_a_file(tmp_path, lang):
    """The database's folder cannot be created: a file stands where it would be."""
    blocker = tmp_path / "notes.txt"
    blocker.write_text("not a folder")
    result = cli(blocker / "lens.db", "rank", lang=lang)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert PHRASES["unavailable"][lang] in result.stderr and "Not a directory" in result.stderr
    assert blocker.read_text() == "not a folder"


CORRUPTIONS: dict[str, Callable[[bytes], bytes]] = {
    "random bytes": lambda real: os.urandom(len(real)),
    "truncated": lambda real: real[: len(real) // 3],
    "header and garbage": lambda real: real[:100] + os.urandom(len(real) - 100),
    "first page only": lambda real: real[:4096],
}


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("damage", CORRUPTIONS)
def test_corrupt_file(copy_of, damage, lang):
    db = copy_of()
    db.write_bytes(CORRUPTIONS[damage](db.read_bytes()))
    assert_refused(db, "corrupt", lang)
    assert_refused(db, "corrupt", lang, "import", str(db))


def browser_history(db: Path, *extra: str) -> None:
    edit(
        db,
        "CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT, title TEXT)",
        "CREATE TABLE moz_historyvisits (id INTEGER PRIMARY KEY, place_id INTEGER, date INT)",
        "INSERT INTO moz_places (url, title) VALUES ('https://example.org', 'Example')",
        *extra,
    )


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    "extra",
    [(), ("CREATE TABLE revisions (x TEXT)",), ("CREATE TABLE migrations (id, migration, batch)",)],
    ids=["browser history", "clashing table", "another app's migrations"],
)
def test_another_applications_database(tmp_path, extra, lang):
    db = tmp_path / "places.sqlite"
    browser_history(db, *extra)
    assert_refused(db, "foreign", lang)
    assert_refused(db, "foreign", lang, "import", str(db))


def test_foreign_application_id_is_refused(tmp_path):
    db = tmp_path / "other.db"
    edit(db, "PRAGMA application_id = 1", "CREATE TABLE t (x)")
    assert_refused(db, "foreign", "en")


def test_empty_sqlite_file_becomes_ours(tmp_path):
    db = tmp_path / "empty.db"
    edit(db, "PRAGMA user_version = 0")  # a valid SQLite file without tables
    assert cli(db, "rank").returncode == 0
    assert sqlite3.connect(db).execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def test_database_of_the_previous_build_is_accepted_and_stamped(copy_of):
    """Databases made before the application id existed keep their data."""
    db = copy_of()
    edit(db, "PRAGMA application_id = 0", "PRAGMA user_version = 0")
    edit(db, "INSERT INTO bot_users VALUES (7, 'zh', 'now')")
    assert cli(db, "rank").returncode == 0
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute("SELECT lang FROM bot_users").fetchall() == [("zh",)]


def newer(db: Path, *, compatible: bool) -> None:
    """What a future build leaves: one more migration (and, if incompatible, one of ours
    undone)."""
    statements = [
        "INSERT INTO migrations VALUES ('m099_future', 'later')",
        f"PRAGMA user_version = {len(MIGRATIONS) + 1}",
    ]
    if not compatible:
        statements.append("DELETE FROM migrations WHERE name = 'm005_snapshot_numbers'")
    edit(db, *statements)


@pytest.mark.parametrize("lang", LANGS)
def test_newer_schema_is_read_but_never_written(copy_of, tmp_path, lang):
    db = copy_of()
    newer(db, compatible=True)
    before = digest(db)
    ranking = cli(db, "rank", "--json", lang=lang)
    assert ranking.returncode == 0, ranking.stderr
    assert json.loads(ranking.stdout)["rows"]
    data = tmp_path / "data.json"
    data.write_text(json.dumps({**BASE, "companies": [company("newco", 0.5)]}))
    assert_refused(db, "newer_schema", lang, "import", str(data))
    assert digest(db) == before


@pytest.mark.parametrize("lang", LANGS)
def test_incompatible_newer_schema(copy_of, lang):
    db = copy_of()
    newer(db, compatible=False)
    assert_refused(db, "incompatible_schema", lang)


# --- read-only and full file systems: small tmpfs mounts ---


def _can_mount(where: Path) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    where.mkdir(exist_ok=True)
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)]).returncode
    if ok == 0:
        subprocess.run(["umount", str(where)], check=True)
    return ok == 0


@contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    if not _can_mount(where):
        pytest.skip("needs root and tmpfs mounts")
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


@pytest.mark.parametrize("lang", LANGS)
def test_read_only_mount(ours, tmp_path, lang):
    with tmpfs(tmp_path / "mnt", "2m") as mnt:
        shutil.copy(ours, mnt / "lens.db")
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        assert_refused(mnt / "lens.db", "read_only", lang)
        result = cli(mnt / "new.db", "rank", lang=lang)  # a database that cannot be created
        assert result.returncode == 2 and PHRASES["read_only"][lang] in result.stderr


@pytest.mark.parametrize("lang", LANGS)
def test_disk_full_during_import(ours, tmp_path, lang):
    data = tmp_path / "big.json"
    notes = {"note": "x" * 2000}
    companies = [
        company(f"c{i}", 0.5, **{"description": {"zh": "描述", "en": "d"}}) for i in range(300)
    ]
    for c in companies:
        c["snapshots"][0]["ai_capex"].update(notes)
    data.write_text(json.dumps({**BASE, "companies": companies}))
    with tmpfs(tmp_path / "mnt", f"{ours.stat().st_size // 1024 + 160}k") as mnt:
        db = mnt / "lens.db"
        shutil.copy(ours, db)
        ranking = cli(db, "rank", "--json").stdout
        result = cli(db, "import", str(data), lang=lang)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert PHRASES["disk_full"][lang] in result.stderr and str(db) in result.stderr
        # The chunks written before the disk filled were never published (the file's bytes
        # differ, its data does not): intact and usable.
        assert cli(db, "rank", "--json").stdout == ranking
        assert json.loads(cli(db, "rank", "--json").stdout)["rows"]
