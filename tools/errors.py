"""Named errors of the toolkit; each carries what a person needs to fix the cause."""

from __future__ import annotations

from dataclasses import dataclass


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
