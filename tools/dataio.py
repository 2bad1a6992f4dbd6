"""Reading data files: YAML or JSON in, a validated Dataset out, or every problem with its place."""

from __future__ import annotations

import gc
import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
import yaml_rs
from pydantic import ValidationError

from tools.errors import DataError, Problem
from tools.models import Company, Dataset, FxRate, Source, Text, Thresholds

# The largest data file `import` reads (the Telegram upload has its own, smaller limit): the
# toolkit benchmark's 5,000 companies x 3 periods are 19 MB of YAML; `import /dev/zero` must
# be refused after reading this much, not after filling the memory.
MAX_FILE_BYTES = 32 * 1024 * 1024
# A lone surrogate can only come from an escape (raw UTF-8 cannot encode one): `\ud800` in
# JSON. Only files with such escapes pay for the walk that finds the string.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_TOO_DEEP = "nested too deeply (a data file needs fewer than 10 levels)"


@dataclass(frozen=True)
class Parsed:
    """A data file's parsed contents, with its text kept to place errors on lines."""

    name: str
    text: str
    data: Any
    sha256: str  # of the bytes parsed, so a revision records exactly what it imported

    def node_tree(self) -> yaml.Node | None:
        """The YAML node tree (JSON is YAML too), for mapping error paths to lines."""
        try:
            return yaml.compose(self.text, Loader=_loader())
        except (yaml.YAMLError, RecursionError):
            return None


def parse_text(text: str, name: str, sha256: str) -> Parsed:
    """Parse YAML or JSON text; syntax errors become a DataError naming the line.

    YAML is read by yaml_rs (YAML 1.2, so `4.0e9` is a number; duplicate keys are errors),
    about 15x faster than PyYAML on large imports. PyYAML builds the node tree for line
    numbers only when validation fails.
    """
    if not text.strip():
        raise DataError([Problem(name, None, "", "the file is empty")])
    try:
        data = _json(text) if name.endswith(".json") else yaml_rs.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError([Problem(name, exc.lineno, "", f"malformed JSON: {exc.msg}")]) from None
    except _DuplicateKey as exc:
        line = _duplicate_line(text, exc.key)
        raise DataError([Problem(name, line, "", f"key '{exc.key}' given twice")]) from None
    except yaml_rs.YAMLDecodeError as exc:
        raise DataError([_yaml_problem(name, str(exc))]) from None
    except RecursionError:
        raise DataError([Problem(name, None, "", _TOO_DEEP)]) from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise DataError([Problem(name, None, "", f"unreadable number: {exc}")]) from None
    if not isinstance(data, dict):
        kind = type(data).__name__
        message = f"expected a mapping with companies/sources/fx sections, got {kind}"
        raise DataError([Problem(name, 1, "", message)])
    parsed = Parsed(name, text, data, sha256)
    if _SURROGATE_ESCAPE.search(text):
        _refuse_surrogates(parsed)
    return parsed


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _json(text: str) -> Any:
    """JSON with duplicate keys refused, as the YAML reader refuses them."""
    return json.loads(text, object_pairs_hook=_unique_keys)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return obj


def _duplicate_line(text: str, key: str) -> int | None:
    """The line of a key's second appearance in one mapping (JSON is YAML to PyYAML)."""
    try:
        root = yaml.compose(text, Loader=_loader())
        nodes: list[yaml.Node] = [root] if root is not None else []
    except (yaml.YAMLError, RecursionError):
        return None
    while nodes:
        node = nodes.pop()
        if isinstance(node, yaml.MappingNode):
            keys = [k for k, _ in node.value if k.value == key]
            if len(keys) > 1:
                return int(keys[1].start_mark.line) + 1
            nodes += [v for _, v in node.value]
        elif isinstance(node, yaml.SequenceNode):
            nodes += node.value
    return None


def _refuse_surrogates(parsed: Parsed) -> None:
    """A string holding half a UTF-16 pair is not text: it cannot be stored or shown."""
    stack: list[tuple[Any, list[Any]]] = [(parsed.data, [])]
    while stack:
        node, loc = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            if _broken(key) or _broken(value):
                problem = Problem(
                    parsed.name,
                    _line_of(parsed.node_tree(), [*loc, key]),
                    _where(parsed.data, [*loc, key]),
                    "text with an unpaired surrogate escape (such as \\ud800), which is not a character",
                )
                raise DataError([problem])
            if isinstance(value, dict | list):
                stack.append((value, [*loc, key]))


def _broken(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _loader() -> type[yaml.SafeLoader] | type[yaml.CSafeLoader]:
    return yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


def _yaml_problem(name: str, message: str) -> Problem:
    """yaml_rs says 'YAML parse error at line L, column C', a snippet, then the reason."""
    place = re.search(r"line (\d+), column (\d+)", message)
    lines = [
        ln.strip()
        for ln in message.splitlines()
        if ln.strip() and not ln.lstrip().startswith(("|", "^"))
    ]
    reason = lines[-1] if lines else message
    reason = re.sub(r"^\d+\s*\|.*", "", reason) or message
    column = f" (column {place.group(2)})" if place else ""
    if "recursion limit exceeded" in reason:
        return Problem(name, int(place.group(1)) if place else None, "", _TOO_DEEP)
    return Problem(
        name, int(place.group(1)) if place else None, "", f"malformed YAML: {reason}{column}"
    )


def read_file(path: Path) -> Parsed:
    """Read a data file from disk once, refusing missing, oversized, binary and undecodable files."""
    raw = _read_bounded(path)
    if len(raw) > MAX_FILE_BYTES:
        message = f"larger than {MAX_FILE_BYTES // 2**20} MB, the most a data file may hold"
        raise DataError([Problem(str(path), None, "", message)])
    if b"\x00" in raw:
        raise DataError([Problem(str(path), None, "", "binary data, not a YAML or JSON file")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text (bad byte at offset {exc.start})"
        raise DataError([Problem(str(path), None, "", message)]) from None
    return parse_text(text, str(path), hashlib.sha256(raw).hexdigest())


def _read_bounded(path: Path) -> bytes:
    """At most one byte over the limit, so an endless file (/dev/zero) is refused at once."""
    try:
        with path.open("rb") as file:
            return file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise DataError([Problem(str(path), None, "", "no such file")]) from None
    except IsADirectoryError:
        raise DataError([Problem(str(path), None, "", "is a directory, not a data file")]) from None
    except OSError as exc:
        raise DataError([Problem(str(path), None, "", f"cannot read: {exc.strerror}")]) from None


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many models at once.

    Bulk construction creates no garbage cycles, yet triggers full collections that walk
    every live object: two thirds of the time of loading 15,000 snapshots.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def validate(parsed: Parsed) -> Dataset:
    """Validate one parsed file against the schema, collecting every problem."""
    try:
        with gc_paused():
            return Dataset.model_validate(parsed.data)
    except ValidationError as exc:
        root = parsed.node_tree()
        problems = [_problem(parsed, root, err) for err in exc.errors()]
        raise DataError(problems) from None


def _problem(parsed: Parsed, root: yaml.Node | None, err: Any) -> Problem:
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    message = err["msg"].removeprefix("Value error, ")
    if loc and loc[-1] == "[key]":  # pydantic's marker for a bad mapping key, not a field
        loc = loc[:-1]
        message = f"key '{loc[-1]}': {message}"
    if err["type"] == "extra_forbidden":
        message = f"unknown field '{loc[-1]}'"
    elif err["type"] == "missing":
        message = f"missing field '{loc[-1]}'"
    elif err["type"] == "string_pattern_mismatch" and loc[-1] == "period":
        message = f"period '{err['input']}' is not a year in ASCII digits, such as 2025"
    return Problem(parsed.name, _line_of(root, loc), _where(parsed.data, loc), message)


def _where(data: Any, loc: Sequence[Any]) -> str:
    """Describe a location as `company xiaomi, period 2024, field allocation.own_inference`."""
    parts: list[str] = []
    node = data
    fields: list[str] = []
    for key in loc:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            node = None
        if isinstance(key, int) and isinstance(node, dict):
            if "id" in node:
                parts.append(f"id {node['id']}")
            elif "period" in node:
                parts.append(f"period {node['period']}")
            continue
        if isinstance(key, str) and key not in ("companies", "snapshots", "sources", "fx"):
            fields.append(key)
    if fields:
        parts.append("field " + ".".join(fields))
    return ", ".join(parts)


def _line_of(root: yaml.Node | None, loc: Iterable[Any]) -> int | None:
    """The 1-based line of the deepest node on a validation error's path."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        child = _child(node, key)
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line


def _child(node: yaml.Node | None, key: Any) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == key:
                return v
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        return node.value[key]
    return None


def merge(datasets: Iterable[Dataset]) -> Dataset:
    """Combine several files into one dataset (the shipped data is split by company)."""
    sources: list[Source] = []
    fx: list[FxRate] = []
    companies: list[Company] = []
    thresholds: Thresholds | None = None
    facts: dict[str, Text] = {}
    units: dict[str, Text] = {}
    for ds in datasets:
        sources += ds.sources
        fx += ds.fx
        companies += ds.companies
        thresholds = ds.thresholds or thresholds
        facts |= ds.facts
        units |= ds.units
    return Dataset(
        sources=sources,
        fx=fx,
        thresholds=thresholds,
        facts=facts,
        units=units,
        companies=companies,
    )


def shipped_files() -> list[Path]:
    """The data files that ship with the program, in a stable order."""
    root = Path(str(resources.files("inference_lens_data")))
    return sorted(root.glob("*.yaml")) + sorted((root / "companies").glob("*.yaml"))


def are_shipped(paths: Iterable[Path]) -> bool:
    """Whether these are all files of the shipped data (stricter checks apply to them)."""
    shipped = {path.resolve() for path in shipped_files()}
    given = [path.resolve() for path in paths]
    return bool(given) and all(path in shipped for path in given)


def load_files(paths: Iterable[Path]) -> Dataset:
    """Read, validate and merge files, reporting the problems of all of them at once."""
    datasets: list[Dataset] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            datasets.append(validate(read_file(path)))
        except DataError as exc:
            problems += exc.problems
    if problems:
        raise DataError(problems)
    return merge(datasets)


def check_references(
    ds: Dataset, known_sources: set[str], known_fx: set[tuple[str, str]], name: str
) -> None:
    """Check what the schema cannot: ids unique, source ids known, every currency priced.

    `known_*` hold what the database already has, so a file may reference earlier imports.
    """
    problems: list[Problem] = []

    def dupes(ids: list[str]) -> list[str]:
        return sorted(i for i, n in Counter(ids).items() if n > 1)  # linear: imports are big

    for dup in dupes([c.id for c in ds.companies]):
        problems.append(Problem(name, None, f"id {dup}", "company id listed twice"))
    for dup in dupes([s.id for s in ds.sources]):
        problems.append(Problem(name, None, f"id {dup}", "source id listed twice"))
    for dup in dupes([f"{f.period}/{f.currency}" for f in ds.fx]):
        problems.append(Problem(name, None, f"fx {dup}", "FX rate listed twice"))
    sources = known_sources | {s.id for s in ds.sources}
    fx = known_fx | {(f.period, f.currency) for f in ds.fx}
    for field, ids in _cited_sources(ds):
        for sid in ids:
            if sid not in sources:
                problems.append(Problem(name, None, field, f"unknown source id '{sid}'"))
    for company in ds.companies:
        for snap in company.snapshots:
            currency = snap.ai_capex.currency
            if (snap.period, currency) not in fx:
                where = f"id {company.id}, period {snap.period}, field ai_capex.currency"
                message = f"unknown currency '{currency}': no FX rate for {snap.period}"
                problems.append(Problem(name, None, where, message))
    if problems:
        raise DataError(problems)


def _cited_sources(ds: Dataset) -> Iterable[tuple[str, list[str]]]:
    """Every (place, source ids) pair in a dataset."""
    for rate in ds.fx:
        yield f"fx {rate.period}/{rate.currency}", rate.sources
    for company in ds.companies:
        for snap in company.snapshots:
            where = f"id {company.id}, period {snap.period}, field "
            yield where + "ai_capex", snap.ai_capex.sources
            for key, share in snap.allocation.shares().items():
                yield where + f"allocation.{key}", share.sources
            for key, share in snap.layer_mix.shares().items():
                yield where + f"layer_mix.{key}", share.sources
            for key, fact in snap.facts.items():
                yield where + f"facts.{key}", fact.sources


def cited_source_ids(ds: Dataset) -> set[str]:
    return {sid for _, ids in _cited_sources(ds) for sid in ids}


if __name__ == "__main__":
    # `python -m tools.dataio`: validate the shipped data files (used while editing them).
    shipped = load_files(shipped_files())
    check_references(shipped, set(), set(), "data/")
    print(f"ok: {len(shipped.companies)} companies, {len(shipped.sources)} sources")
