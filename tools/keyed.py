"""Versioned records read by key: the latest body of each record of some ids, at a revision."""

from __future__ import annotations

import sqlite_utils

# Record kinds and their key columns: each record is one JSON body per revision that changed it.
KINDS: dict[str, tuple[str, ...]] = {
    "companies": ("id",),
    "snapshots": ("company_id", "period"),
    "sources": ("id",),
    "fx": ("period", "currency"),
    "thresholds": ("id",),
    "display_names": ("kind", "key"),
}
KEYS_PER_QUERY = 500  # ids bound in one `IN (...)`, well under SQLite's variable limit


def latest(
    db: sqlite_utils.Database, columns: tuple[str, ...], table: str, ids: list[str], rev: int
) -> list[tuple[str, str]]:
    """(first key, body) of each record whose first key is one of `ids`, at a revision."""
    key, names = columns[0], ", ".join(columns)
    sql = f"""
        SELECT {key}, body FROM (
            SELECT {key}, body, row_number() OVER (
                PARTITION BY {names} ORDER BY revision_id DESC) AS n
            FROM [{table}] WHERE {key} IN ({", ".join("?" * len(ids))}) AND revision_id <= ?
        ) WHERE n = 1
    """
    return db.execute(sql, [*ids, rev]).fetchall()


def latest_records(
    db: sqlite_utils.Database, columns: tuple[str, ...], table: str, ids: list[str]
) -> list[tuple[tuple[str, ...], str]]:
    """(full key, body) of the current record of each key whose first part is one of `ids`."""
    names = ", ".join(columns)
    sql = f"""
        SELECT {names}, body FROM (
            SELECT *, row_number() OVER (
                PARTITION BY {names} ORDER BY revision_id DESC) AS n
            FROM [{table}] WHERE {columns[0]} IN ({", ".join("?" * len(ids))})
        ) WHERE n = 1
    """
    return [(tuple(r[:-1]), r[-1]) for r in db.execute(sql, ids)]


Row = tuple[str, str, str, bytes]  # company, period, capex currency, encoded numbers


def numbers(db: sqlite_utils.Database, rev: int, ids: list[str] | None = None) -> list[Row]:
    """(company, period, currency, numbers) of each current snapshot at a revision: of every
    company, or of these (read by key)."""
    where = f"company_id IN ({', '.join('?' * len(ids))}) AND " if ids is not None else ""
    sql = f"""
        SELECT company_id, period, currency, numbers FROM (
            SELECT company_id, period, currency, numbers, row_number() OVER (
                PARTITION BY company_id, period ORDER BY revision_id DESC) AS n
            FROM snapshots WHERE {where}revision_id <= ?
        ) WHERE n = 1
    """
    return db.execute(sql, [*(ids or []), rev]).fetchall()
