"""A drawing process (`python -m bot.telegram.drawworker [font file]`): says it is ready (a
first answer), then reads pickled (function, arguments) from its standard input, draws, and writes back pickled
(True, png) or (False, error), one at a time, until its input ends — when the bot ends,
even killed, its end of the pipe closes and this process ends too.

A process of its own rather than multiprocessing's spawn, which would first import the
bot's whole command line (its __main__, ~2.4 s on a loaded machine) before drawing: this
one imports only what it draws with, Pillow's ranking first, matplotlib's tiers meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import threading
from pathlib import Path
from typing import BinaryIO

NICE = 10


def serve(source: BinaryIO, sink: BinaryIO) -> None:
    while True:
        try:
            draw, args = pickle.load(source)
        except EOFError:
            return
        try:
            result: tuple[bool, object] = (True, draw(*args))
        except Exception as exc:  # the bot's caller gets it (no CJK font, a bad chart)
            result = (False, exc)
        pickle.dump(result, sink)
        sink.flush()


def main() -> None:
    # Below the bot's own process: its live answers come first when both want a core.
    os.nice(NICE)
    from bot.telegram import barchart, charts

    charts.use_font(Path(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] else None)
    channel = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing printed may mix with the answers
    del barchart  # imported first, so a ranking chart is drawn at once
    threading.Thread(target=_load_matplotlib, daemon=True).start()
    pickle.dump((True, b""), channel)  # ready
    channel.flush()
    serve(sys.stdin.buffer, channel)


def _load_matplotlib() -> None:
    from bot.telegram import charts

    with contextlib.suppress(charts.MissingCJKFont):  # said again to each chart asked for
        charts.prepare()


if __name__ == "__main__":
    main()
