"""Command arguments as users type them: a metric by any of its names, a period, the names
of companies to compare; in any order."""

from __future__ import annotations

from tools.errors import UnknownCompany
from tools.resolve import Resolver, normalise
from tools.taxonomy import METRICS


def parse_metric(text: str) -> str | None:
    """A metric named by id or by its Chinese or English name; None when none matches."""
    key = normalise(text)
    for metric in METRICS.values():
        if key in {normalise(metric.id), normalise(metric.zh), normalise(metric.en)}:
            return metric.id
    return None


def split(args: list[str], names: Resolver | None) -> tuple[str | None, str | None, list[str]]:
    """(metric, period, the rest) from command arguments in any order. With the names, a
    four-digit argument that names a company (1810 is Xiaomi's ticker) is not a period."""
    metric = period = None
    rest = []
    for arg in args:
        if arg.isdigit() and len(arg) == 4 and not (names and _names_company(names, arg)):
            period = arg
        elif metric is None and parse_metric(arg):
            metric = parse_metric(arg)
        else:
            rest.append(arg)
    return metric, period, rest


def _names_company(names: Resolver, text: str) -> bool:
    try:
        names.resolve(text)
    except UnknownCompany:
        return False
    return True


def companies(args: list[str]) -> list[str]:
    """Company names from /compare arguments: comma or 'vs' separated, else one per word."""
    text = " ".join(args)
    for sep in (",", ",", "、", " vs ", " VS ", " 和 ", " 与 "):
        if sep in text:
            return [part.strip() for part in text.split(sep) if part.strip()]
    return args
