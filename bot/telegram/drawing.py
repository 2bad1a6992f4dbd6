"""The tiers chart, drawn with matplotlib (bot.telegram.charts is the front, and imports this
on first use, so the bot starts without loading matplotlib; the ranking chart is drawn with
Pillow, bot.telegram.barchart).

Drawn with matplotlib's object API, which renders PNGs with Agg and needs no pyplot or
display, sized to stay legible when a phone shows the image about 400 points wide. Chinese
labels need a CJK font (see `registered`).
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from bot.telegram.barchart import DPI, LABEL_PT, TITLE_PT, WIDTH_IN, font_file, short
from bot.text import fmt
from bot.text.i18n import Lang, t
from bot.text.terms import archetype, name
from tools.breakdown import TierBreakdown
from tools.taxonomy import LAYER_TERMS

LAYER_COLOURS = ("#b0bec5", "#78909c", "#1e88e5", "#0d47a1")  # margin ladder, low to high
ALLOCATION_COLOURS = ("#a5d6a7", "#2e7d32", "#ffb74d", "#e07a1f")  # own, own, sold, sold
LIGHT = {"#b0bec5", "#a5d6a7", "#ffb74d"}  # too pale under white text


@cache
def registered(preferred: Path | None) -> str | None:
    """The family name of the first CJK font found (registered with matplotlib), else None."""
    path = font_file(preferred)
    if path is None:
        return None
    font_manager.fontManager.addfont(str(path))
    return str(font_manager.FontProperties(fname=path).get_name())


def _figure(height: float) -> Figure:
    fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
    fig.set_layout_engine("constrained", h_pad=0.12, w_pad=0.12)
    return fig


def _png(fig: Figure) -> bytes:
    """The picture, quickly: zlib's fastest level encodes in about half the time of its default,
    for files ~12% larger (~140 KB, far below Telegram's 10 MB photo limit), the same pixels."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor="white", pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def _style(family: str) -> Any:  # matplotlib types rcParams keys as one long Literal
    """The CJK font first (it has Latin glyphs too, so labels stay in one typeface); no text
    under 14 pt, which a phone showing the 1,120-pixel image about 400 points wide still
    makes about 5 points — the smallest that stays readable."""
    return {
        "font.family": [family, "DejaVu Sans"],
        "font.size": LABEL_PT,
        "axes.titlesize": LABEL_PT,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


def _footer(fig: Figure, footer: str) -> None:
    """Where the figures come from, as of when, and from whom: a forwarded chart keeps it."""
    if footer:
        fig.supxlabel(footer, x=0.01, ha="left", color="#616161", fontsize=LABEL_PT)


def tiers(b: TierBreakdown, lang: Lang, footer: str, family: str) -> bytes:
    """Two panels with each share's stated range as a whisker: the business by layer in
    margin order, and where the compute goes."""
    with matplotlib.rc_context(_style(family)):
        fig = _figure(7.4)
        top, bottom = fig.subplots(2, 1, height_ratios=[1, 1])
        layers = list(b.layer_mix)
        _panel(
            top,
            [LAYER_TERMS[k].name(lang) for k in layers],
            [(b.layer_mix[k], b.layer_ranges.get(k)) for k in layers],
            LAYER_COLOURS,
        )
        top.set_title(t("layers_title", lang), loc="left")
        keys = list(b.allocation)
        _panel(
            bottom,
            [t("alloc_" + k, lang) for k in keys],
            [(b.allocation[k], b.allocation_ranges.get(k)) for k in keys],
            ALLOCATION_COLOURS,
        )
        bottom.set_title(t("chart_allocation", lang), loc="left")
        star = "*" if b.estimated else ""
        fig.suptitle(
            f"{short(name(b, lang))} · {b.period}{star}\n{archetype(b.archetype, b.tags, lang)}",
            x=0.01,
            ha="left",
            fontsize=TITLE_PT,
        )
        _footer(fig, "\n".join(filter(None, [t("chart_ranges", lang), footer])))
        return _png(fig)


Bar = tuple[float, tuple[float, float] | None]  # a share and its (low, high), if stated


def _panel(ax: Axes, labels: list[str], bars: list[Bar], colours: tuple[str, ...]) -> None:
    ys = list(range(len(labels)))[::-1]
    values = [v for v, _ in bars]
    ax.barh(ys, values, color=colours, height=0.6)
    ax.set_yticks(ys, labels)
    ax.set_xlim(0, 1.0)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x * 100:.0f}%"))
    ax.grid(axis="x", color="#e0e0e0")
    ax.set_axisbelow(True)
    for y, (v, bounds) in zip(ys, bars, strict=True):
        low, high = bounds or (v, v)
        if high > low:  # drawn whole, from its own ends, even where it misses the bar
            mid, half = (low + high) / 2, (high - low) / 2
            ax.errorbar([mid], [y], xerr=[[half], [half]], fmt="none", ecolor="#212121", capsize=6)
        end = max(v, high) + 0.01
        if end > 0.86:  # no room after the whisker: inside the bar, at its start
            ax.text(0.01, y, fmt.pct(v), va="center", color="white", bbox=_label_box(colours, y))
        else:
            ax.text(end, y, fmt.pct(v), va="center", ha="left", color="#212121")


def _label_box(colours: tuple[str, ...], y: int) -> dict[str, object]:
    colour = colours[len(colours) - 1 - y]
    return {"facecolor": "#424242" if colour in LIGHT else colour, "edgecolor": "none", "pad": 1.5}
