"""Named errors of the toolkit; each carries what a person needs to fix the cause."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar


@dataclass(frozen=True)
class Problem:
    """One thing wrong with input data, with its place."""

    file: str
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        place = self.file + (f":{self.line}" if self.line else "")
        where = f" ({self.where})" if self.where else ""
        return f"{place}{where}: {self.message}"


class ToolkitError(Exception):
    """Base of the errors a caller is expected to handle and show."""


class DataError(ToolkitError):
    """A data file (or a set of them) failed validation; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class UnknownCompany(ToolkitError):
    """A name that matches no company; `suggestions` are the closest ids."""

    def __init__(self, query: str, suggestions: list[str]) -> None:
        self.query = query
        self.suggestions = suggestions
        hint = f"; did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown company '{query}'{hint}")


class UnknownPeriod(ToolkitError):
    """A period with no data for the company or the ranking asked about."""


class BadArgument(ToolkitError):
    """An argument outside what a tool accepts (unknown metric, bad override...)."""


class StoreError(ToolkitError):
    """The database cannot be used as asked; it was left as it was.

    `code` names the cause for callers that word it themselves (the CLI, in the user's
    language); `facts` fill the placeholders of that wording.
    """

    code: ClassVar[str] = "unavailable"
    summary: ClassVar[str] = "cannot be opened"

    def __init__(self, path: Path | str, detail: str = "", **facts: int | str) -> None:
        self.path = str(path)
        self.detail = detail
        self.facts = facts
        super().__init__(
            f"database {self.path} {self.summary}" + (f" ({detail})" if detail else "")
        )


class StoreIsDirectory(StoreError):
    code = "is_directory"
    summary = "is a directory, not a database file"


class StoreReadOnly(StoreError):
    code = "read_only"
    summary = "cannot be written: the file, its directory or the disk is read-only"


class StoreCorrupt(StoreError):
    code = "corrupt"
    summary = "is damaged or not an SQLite database"


class ForeignDatabase(StoreError):
    code = "foreign"
    summary = "belongs to another application: it is not empty and not an Inference Lens database"


class NewerSchema(StoreError):
    """Raised on a write: a newer build's database is only read by this one."""

    code = "newer_schema"
    summary = "was made by a newer version of Inference Lens; this version only reads it"


class IncompatibleSchema(StoreError):
    code = "incompatible_schema"
    summary = "was made by a newer version of Inference Lens that this version cannot read"


class StoreFull(StoreError):
    code = "disk_full"
    summary = "could not be written: the disk is full"


class StoreBusy(StoreError):
    code = "busy"
    summary = "is locked by another process"
