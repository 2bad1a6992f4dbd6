"""Charts kept on disk beside the database (<db>.charts/), by the key of what they show.

Charts are keyed by their figures, not by the data's revision (commands._chart), so a PNG
drawn before a restart or an import is still the right picture afterwards: a restarted bot
answers its first /rank from here instead of drawing it again. Bounded: past KEEP files the
oldest are removed.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

KEEP = 2_000  # PNGs, about 100 KB each


class ChartFiles:
    def __init__(self, folder: Path, keep: int = KEEP) -> None:
        self._folder = folder
        self._keep = keep
        self._writes = 0

    def get(self, key: str, draw: Callable[[], bytes]) -> bytes:
        """The PNG stored under `key`, else `draw()` stored there (a disk that cannot be
        written only costs the copy)."""
        path = self._folder / (hashlib.blake2b(key.encode(), digest_size=16).hexdigest() + ".png")
        with contextlib.suppress(OSError):
            return path.read_bytes()
        png = draw()
        with contextlib.suppress(OSError):
            self._write(path, png)
        return png

    def _write(self, path: Path, png: bytes) -> None:
        self._folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(png)
        os.replace(tmp, path)  # whole or not at all, for a reader on another thread
        self._writes += 1
        if self._writes % max(self._keep // 20, 1) == 0:  # a listing every 100 writes
            self._prune()

    def _prune(self) -> None:
        files = sorted(self._folder.glob("*.png"), key=lambda p: p.stat().st_mtime)
        for old in files[: max(len(files) - self._keep, 0)]:
            old.unlink(missing_ok=True)


@functools.cache
def beside(database: Path) -> ChartFiles:
    """The charts of a database, in <database>.charts/."""
    return ChartFiles(database.with_name(database.name + ".charts"))
