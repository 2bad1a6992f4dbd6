"""PNG charts for Telegram: the ranking with p10–p90 whiskers, and a company's tier breakdown.

The front of bot.telegram.drawing (matplotlib, loaded on the first chart or by `prepare`):
which font, whose handle, and where a chart is drawn — here, one live chart at a time, or in
a worker process for the warm-up. Chinese labels need a CJK font: the project installs
WenQuanYi Micro Hei (Debian's fonts-wqy-microhei, see the Makefile);
INFERENCE_LENS_CJK_FONT may name another font file.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

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
    """The CJK font's family name (registered with matplotlib on first use)."""
    return _family()


def _family() -> str:
    from bot.telegram import drawing  # matplotlib loads on the first chart, not at start

    family = drawing.registered(_font_file)
    if family is None:
        raise MissingCJKFont(
            "no CJK font found; install Debian's fonts-wqy-microhei (make install does) "
            "or set INFERENCE_LENS_CJK_FONT to a .ttf/.ttc/.otf file"
        )
    return family


@contextlib.contextmanager
def background() -> Iterator[None]:
    """Charts drawn in this block (the warm-up) are drawn in a worker process of their own,
    so a live request's chart never waits for one (nor shares the interpreter with it)."""
    _local.background = True
    try:
        yield
    finally:
        _local.background = False


def _elsewhere(draw: Callable[..., bytes], *args: object) -> bytes:
    """`draw(*args)` in the one background worker process (started on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                1,
                mp_context=multiprocessing.get_context("spawn"),  # no fork of a threaded bot
                initializer=_worker,
                initargs=(_font_file, os.getpid()),
            )
        pool = _pool
    return pool.submit(draw, *args).result()


def _worker(font: Path | None, parent: int) -> None:
    """The worker process's set-up: the bot's font, and an end when the bot ends, even
    killed (a worker left behind would keep the bot's output open)."""
    use_font(font)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def in_background() -> bool:
    """Whether this thread is drawing for the warm-up (charts.background)."""
    return bool(getattr(_local, "background", False))


def prepare() -> None:
    """Load matplotlib and the font now (in the background after start), not on a live
    request's first chart."""
    _family()


def ranking_chart(r: Ranking, lang: Lang, footer: str = "") -> bytes:
    """Horizontal bars of the point values, whole p10–p90 whiskers, coloured by archetype;
    the legend under the plot, the footer (sources, data date, bot) at the bottom."""
    if in_background():
        return _elsewhere(ranking_chart, r, lang, footer)
    from bot.telegram import drawing

    family = cjk_font()
    with _draw_lock:
        return drawing.ranking(r, lang, footer, family)


def tiers_chart(b: TierBreakdown, lang: Lang, footer: str = "") -> bytes:
    """Two panels: the business by layer in margin order, and where the compute goes."""
    if in_background():
        return _elsewhere(tiers_chart, b, lang, footer)
    from bot.telegram import drawing

    family = cjk_font()
    with _draw_lock:
        return drawing.tiers(b, lang, footer, family)
