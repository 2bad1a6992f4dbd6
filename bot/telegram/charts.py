"""PNG charts for Telegram: the ranking with p10–p90 whiskers, and a company's tier breakdown.

The front of the drawing modules: which font, whose handle, and where a chart is drawn. A
ranking page (bot.telegram.barchart, Pillow, ~50 ms) is drawn in the thread that asks. A
tiers chart (bot.telegram.drawing, matplotlib, ~0.3 s) is drawn in this process one at a
time (the command line, tests), or, once the bot has started them, by the drawing processes
(Drawers), where a live request's chart goes ahead of every warm-up chart still waiting.
Chinese labels need a CJK font: the project installs WenQuanYi Micro Hei (Debian's
fonts-wqy-microhei, see the Makefile); INFERENCE_LENS_CJK_FONT may name another font file.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import os
import pickle
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

from bot.text.i18n import Lang
from tools.breakdown import TierBreakdown
from tools.ranking import Ranking

_draw_lock = threading.Lock()  # matplotlib's rc settings are global (live charts take turns)
_local = threading.local()


class MissingCJKFont(RuntimeError):
    """No CJK font is installed, so Chinese labels would come out as empty boxes."""


def use_font(path: Path | None) -> None:
    """Prefer this font file (the INFERENCE_LENS_CJK_FONT setting); call before drawing."""
    global _font_file
    _font_file = path


_font_file: Path | None = None
_handle = ""


def use_handle(username: str) -> None:
    """The bot's @handle, for the footer of every chart (known once the bot has started)."""
    global _handle
    _handle = f"@{username}" if username else ""


def handle() -> str:
    return _handle


def cjk_font() -> str:
    """The CJK font's family name; MissingCJKFont when there is none (then the answers go
    without their charts)."""
    from bot.telegram import barchart

    return barchart.family(font_path())


def font_path() -> Path:
    """The CJK font file the charts are drawn with."""
    from bot.telegram import barchart

    path = barchart.font_file(_font_file)
    if path is None:
        raise MissingCJKFont(
            "no CJK font found; install Debian's fonts-wqy-microhei (make install does) "
            "or set INFERENCE_LENS_CJK_FONT to a .ttf/.ttc/.otf file"
        )
    return path


@contextlib.contextmanager
def background() -> Iterator[None]:
    """Charts drawn in this block (the warm-up) wait behind every live chart: they are drawn
    by the drawing processes (started if need be) at the warm-up's priority."""
    _local.background = True
    try:
        yield
    finally:
        _local.background = False


def in_background() -> bool:
    """Whether this thread is drawing for the warm-up (charts.background)."""
    return bool(getattr(_local, "background", False))


LIVE, WARM = 0, 1  # a chart someone waits for, and one drawn ahead of being asked
EVENTS = 1_000  # the last events kept (Drawers.events)
WORKERS = min(os.cpu_count() or 1, 2)  # drawing processes: one a core, of the two we plan for


@dataclass
class _Job:
    key: bytes  # what is drawn: the same key, the same picture
    draw: Callable[..., bytes]
    args: tuple[object, ...]
    priority: int
    number: int  # in the order asked for
    done: Future[bytes] = field(default_factory=Future)
    started: bool = False


class Event(NamedTuple):
    """A chart queued (again, when moved up) or started: what the queue did, in order."""

    what: Literal["queued", "started"]
    job: int  # the job's number
    priority: int


class Drawers:
    """Worker processes that draw charts, fed from one queue in priority order: a live
    chart goes ahead of every warm-up chart still waiting, so it waits at most for the
    charts already being drawn. Each process draws one chart at a time (matplotlib's
    settings are global), so the bot's own process never holds the interpreter for a
    drawing and answers what is already drawn meanwhile. The same chart asked for twice
    while queued or being drawn is drawn once: a live request for a queued warm-up chart
    moves it up to live priority and waits for it."""

    def __init__(self, workers: int, font: Path | None) -> None:
        self._queue: list[tuple[int, int, _Job]] = []  # (priority, order, job), a heap
        self._jobs: dict[bytes, _Job] = {}  # what each chart's arguments are being drawn by
        self._order = itertools.count()
        self._ready = threading.Condition()
        self.events: deque[Event] = deque(maxlen=EVENTS)
        self.ready = threading.Event()  # a process can draw
        for i in range(workers):
            threading.Thread(
                target=self._serve, args=(font, i > 0), name=f"drawer-{i}", daemon=True
            ).start()

    def draw(self, draw: Callable[..., bytes], args: tuple[object, ...], priority: int) -> bytes:
        key = pickle.dumps((draw.__name__, args))
        with self._ready:
            job = self._jobs.get(key)
            if job is None:
                job = self._jobs[key] = _Job(key, draw, args, priority, next(self._order))
                self._push(job)
            elif priority < job.priority and not job.started:
                job.priority = priority  # the stale entry is skipped when it comes up
                self._push(job)
        return job.done.result()

    def _push(self, job: _Job) -> None:
        heapq.heappush(self._queue, (job.priority, next(self._order), job))
        self.events.append(Event("queued", job.number, job.priority))
        self._ready.notify()

    def waiting(self) -> int:
        """How many charts are queued, not yet being drawn."""
        with self._ready:
            return sum(1 for job in self._jobs.values() if not job.started)

    def _next(self) -> _Job:
        with self._ready:
            while True:
                while not self._queue:
                    self._ready.wait()
                priority, _, job = heapq.heappop(self._queue)
                if not job.started and priority == job.priority:
                    job.started = True
                    self.events.append(Event("started", job.number, priority))
                    return job

    def _serve(self, font: Path | None, second: bool) -> None:
        if second:  # one process loading at a time: two took both cores from the bot
            self.ready.wait()
        worker = _Worker(font)
        with contextlib.suppress(RuntimeError):  # it did not start: the first chart says so
            worker.greeted()
        self.ready.set()
        while True:
            job = self._next()
            try:
                job.done.set_result(worker.draw(job.draw, job.args))
            except BaseException as exc:  # the caller gets it (a worker gone, a bad chart)
                job.done.set_exception(exc)
            finally:
                with self._ready:
                    del self._jobs[job.key]


class _Worker:
    """One drawing process (bot.telegram.drawworker), started again if it ends."""

    def __init__(self, font: Path | None) -> None:
        self._font = font
        self._process = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "bot.telegram.drawworker", str(self._font or "")]
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def greeted(self) -> None:
        """Returns once the process can draw (it says so when it has loaded Pillow)."""
        self._answer()

    def draw(self, draw: Callable[..., bytes], args: tuple[object, ...]) -> bytes:
        if self._process.poll() is not None:
            self._process = self._start()
            self.greeted()
        stdin = self._process.stdin
        assert stdin is not None
        try:
            pickle.dump((draw, args), stdin)
            stdin.flush()
        except OSError as exc:  # it ended mid-chart: the next chart starts another
            raise RuntimeError("the drawing process ended") from exc
        png = self._answer()
        assert isinstance(png, bytes)
        return png

    def _answer(self) -> object:
        assert self._process.stdout is not None
        try:
            ok, value = pickle.load(self._process.stdout)
        except (OSError, EOFError) as exc:
            raise RuntimeError("the drawing process ended") from exc
        if not ok:
            raise value
        return value


def start_drawing(workers: int = WORKERS) -> Drawers:
    """The drawing processes (started once, the second once the first is ready): from then
    on they draw every tiers chart and the warm-up's charts."""
    global _drawers
    with _drawers_lock:
        if _drawers is None:
            _drawers = Drawers(workers, _font_file)
        return _drawers


_drawers: Drawers | None = None
_drawers_lock = threading.Lock()


def prepare() -> None:
    """Load matplotlib and the font now, not on the first chart asked for."""
    from bot.telegram import drawing

    cjk_font()
    drawing.registered(_font_file)


def draw_elsewhere() -> None:
    """From now on the drawing processes draw the tiers charts (the bot, at start), started
    when the first chart is to be drawn: a restart that finds every chart on disk starts
    none, and leaves the cores to its answers."""
    global _elsewhere
    _elsewhere = True


_elsewhere = False


def _draw(draw: Callable[..., bytes], *args: object) -> bytes | None:
    """`draw(*args)` by the drawing processes, if the bot uses them or for the warm-up
    (started if need be), at the priority of who asks; None when this process draws."""
    if in_background():
        return start_drawing().draw(draw, args, WARM)
    if _elsewhere or _drawers is not None:
        return start_drawing().draw(draw, args, LIVE)
    return None


def ranking_chart(r: Ranking, lang: Lang, footer: str = "") -> bytes:
    """Horizontal bars of the point values, whole p10–p90 whiskers, coloured by archetype;
    the legend under the plot, the footer (sources, data date, bot) at the bottom.

    A live one is drawn in the thread that asks: Pillow draws it in ~50 ms, so it never
    queues (nor waits for the drawing processes to start). The warm-up's are drawn by the
    drawing processes, so the ~100 of them do not hold this process's interpreter — but
    here, one at a time, in the seconds before a drawing process can draw: those are the
    first views users ask for."""
    if in_background():
        drawers = start_drawing()
        if drawers.ready.is_set():
            return drawers.draw(ranking_chart, (r, lang, footer), WARM)
    from bot.telegram import barchart

    with _warm_turn if in_background() else contextlib.nullcontext():
        cjk_font()
        return barchart.ranking(r, lang, footer, font_path())


_warm_turn = threading.Lock()  # the warm-up draws here one chart at a time


def tiers_chart(b: TierBreakdown, lang: Lang, footer: str = "") -> bytes:
    """Two panels: the business by layer in margin order, and where the compute goes."""
    drawn = _draw(tiers_chart, b, lang, footer)
    if drawn is not None:
        return drawn
    from bot.telegram import drawing

    cjk_font()
    family = str(drawing.registered(_font_file))  # with matplotlib
    with _draw_lock:
        return drawing.tiers(b, lang, footer, family)
