"""The ranking chart, drawn with Pillow: the picture matplotlib drew (bot.telegram.drawing
draws the tiers chart still), in a tenth of the time.

A ranking page is the chart asked for most, and each /rank toggle is another one: drawn with
matplotlib each took ~0.3 s of a core (~1 s on a loaded machine), so the first minute after a
start was spent drawing while users waited. Here the same layout — bars by archetype, hatched
edge builders, whole p10–p90 whiskers, each value on its bar, the legend under the plot, the
footer at the bottom — is placed by hand in pixels of the 7-inch, 160-dpi picture, in ~40 ms.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bot.text import fmt
from bot.text.i18n import Lang, t
from bot.text.terms import name
from tools.ranking import Ranking, RankRow
from tools.taxonomy import ARCHETYPES, METRICS

CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
)
ARCHETYPE_COLOURS = {
    "self_user": "#2e7d32",
    "dual": "#6a4c93",
    "supplier": "#e07a1f",
    "unclassified": "#9e9e9e",
}
WIDTH_IN, DPI = 7.0, 160
LABEL_PT, TITLE_PT = 14, 16
NAME_CHARS = 28  # of a company's name on a chart (CJK characters count double)
PX = DPI / 72  # pixels a point
W = round(WIDTH_IN * DPI)
PAD = round(0.12 * DPI)  # around the picture
LINE = round(LABEL_PT * PX * 1.17)  # a line of 14 pt text
TICK = round(3.5 * PX)  # a tick's length, and the gap to its label
BAR = 0.62  # of a row
DARK, GREY, GRID = "#212121", "#616161", "#e0e0e0"


def short(text: str) -> str:
    """A name as it fits a label of the 7-inch-wide chart: a long one ends in "…"."""
    limit = NAME_CHARS // 2 if any(ord(ch) > 0x2E80 for ch in text) else NAME_CHARS
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def font_file(preferred: Path | None) -> Path | None:
    """The first CJK font file found (it has Latin glyphs too, so labels keep one typeface)."""
    return next((Path(p) for p in [preferred, *CJK_FONT_FILES] if p and Path(p).is_file()), None)


def family(font: Path) -> str:
    """A font file's family name (WenQuanYi Micro Hei)."""
    return str(_font(str(font), LABEL_PT).getname()[0])


@cache
def _font(path: str, pt: float) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, round(pt * PX))


@dataclass(frozen=True)
class _Plot:
    """Where the axes sit in the picture, and its value → pixel maps."""

    left: int
    right: int
    top: int
    bottom: int
    xmax: float
    rows: int

    def x(self, v: float) -> float:
        return self.left + (self.right - self.left) * v / self.xmax

    def y(self, i: int) -> float:
        """Row i's centre, i = 0 the top row (matplotlib's margins: 5% of the bars' span)."""
        span = self.rows - 1 + BAR
        low, high = -BAR / 2 - 0.05 * span, self.rows - 1 + BAR / 2 + 0.05 * span
        return self.top + (self.bottom - self.top) * (i - low) / (high - low)


def ranking(r: Ranking, lang: Lang, footer: str, font: Path) -> bytes:
    """Horizontal bars of the point values, whole p10–p90 whiskers, coloured by archetype;
    the legend under the plot, the footer (sources, data date, bot) at the bottom."""
    label, title = _font(str(font), LABEL_PT), _font(str(font), TITLE_PT)
    rows = r.rows
    height = round((2.6 + 0.55 * len(rows)) * DPI)  # 0.55 inch a row
    image = Image.new("RGB", (W, height), "white")
    draw = ImageDraw.Draw(image)
    names = [_row_label(row, lang) for row in rows]
    values = [row.value or 0.0 for row in rows]
    top = max((max(v, row.p90 or v) for v, row in zip(values, rows, strict=True)), default=1.0)
    xmax = 1.0 if r.unit != "usd" else (top * 1.05 or 1.0)  # shares end at 100%
    ticks = _ticks(xmax)
    tick_labels = [_axis(x, r.unit, lang) for x in ticks]
    lines = [line for line in [t("chart_whiskers", lang, samples=r.samples), footer] if line]
    text = "\n".join(lines).split("\n")
    legend = _legend_items(rows, lang)
    legend_rows = math.ceil(len(legend) / 3) if legend else 0
    footer_top = height - PAD - LINE * len(text)
    legend_top = footer_top - LINE - 44 * legend_rows
    left = PAD + max((round(draw.textlength(n, font=label)) for n in names), default=0) + 2 * TICK
    last = draw.textlength(tick_labels[-1], font=label) / 2 if ticks[-1] >= xmax * 0.999 else 0
    shared = len({row.period for row in rows}) == 1
    plot = _Plot(left, round(W - PAD - last), 94, legend_top - 84, xmax, max(len(rows), 1))
    _axes(draw, plot, ticks, tick_labels, label)
    for i, (row, v) in enumerate(zip(rows, values, strict=True)):
        _bar(image, draw, plot, i, row, v)
        draw.text((plot.left - 2 * TICK, plot.y(i)), names[i], font=label, fill=DARK, anchor="rm")
        _value_label(draw, plot, i, row, v, r.unit, lang, label, shared)
    draw.text((PAD * 0.6, PAD), _rank_title(r, lang), font=title, fill="black", anchor="la")
    _legend(image, draw, legend, plot, legend_top, label)
    for k, line in enumerate(text):
        draw.text((PAD * 0.6, footer_top + k * LINE), line, font=label, fill=GREY, anchor="la")
    buf = io.BytesIO()
    image.save(buf, format="png", compress_level=1)  # zlib's fastest: ~140 KB, 40 ms
    return buf.getvalue()


def _row_label(row: RankRow, lang: Lang) -> str:
    n = short(name(row, lang))
    return f"{row.rank}. {n}" if row.rank else n


def _ticks(xmax: float) -> list[float]:
    """At most six round ticks from 0 (steps of 1, 2, 2.5 or 5 times a power of ten)."""
    raw = xmax / 5
    scale = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    step = next(s * scale for s in (1, 2, 2.5, 5, 10) if s * scale >= raw * 0.999)
    return [k * step for k in range(int(xmax / step + 1e-9) + 1)]


def _axis(x: float, unit: str, lang: Lang) -> str:
    """Short tick labels (the full amount is on each bar), so five ticks fit a phone."""
    if unit != "usd":
        return f"{x * 100:.0f}%"
    return f"{x / 1e8:,.0f}亿" if lang == "zh" else f"${x / 1e9:,.0f}bn"


def _axes(
    draw: ImageDraw.ImageDraw,
    plot: _Plot,
    ticks: list[float],
    labels: list[str],
    font: ImageFont.FreeTypeFont,
) -> None:
    """The grid behind the bars, the left and bottom spines, ticks and their labels."""
    for x, text in zip(ticks, labels, strict=True):
        px = plot.x(x)
        draw.line([(px, plot.top), (px, plot.bottom)], fill=GRID, width=2)
        draw.line([(px, plot.bottom), (px, plot.bottom + TICK)], fill="black", width=2)
        draw.text((px, plot.bottom + 2 * TICK), text, font=font, fill=DARK, anchor="ma")
    for i in range(plot.rows):
        y = plot.y(i)
        draw.line([(plot.left - TICK, y), (plot.left, y)], fill="black", width=2)
    draw.line([(plot.left, plot.top), (plot.left, plot.bottom)], fill="black", width=2)
    draw.line([(plot.left, plot.bottom), (plot.right, plot.bottom)], fill="black", width=2)


def _bar(
    image: Image.Image, draw: ImageDraw.ImageDraw, plot: _Plot, i: int, row: RankRow, v: float
) -> None:
    """The bar (hatched for an edge builder), then its whisker drawn whole, from its own
    ends, even where the range misses the bar."""
    y, half = plot.y(i), (plot.y(1) - plot.y(0)) * BAR / 2 if plot.rows > 1 else 27
    box = (plot.left + 1, round(y - half), round(plot.x(v)), round(y + half))
    colour = ARCHETYPE_COLOURS.get(row.archetype, "#9e9e9e")
    if box[2] > box[0]:
        draw.rectangle(box, fill=colour)
        if "edge_builder" in row.tags:
            _hatch(image, box, "white")
    low = row.p10 if row.p10 is not None else v
    high = row.p90 if row.p90 is not None else v
    if high > low:
        a, b, cap = plot.x(low), plot.x(high), round(6 * PX)
        draw.line([(a, y), (b, y)], fill=DARK, width=4)
        for x in (a, b):
            draw.line([(x, y - cap), (x, y + cap)], fill=DARK, width=3)


def _hatch(image: Image.Image, box: tuple[int, int, int, int], colour: str) -> None:
    """ "///" over a box: lines rising to the right every 18 pixels, clipped to it."""
    left, top, right, bottom = box
    tile = image.crop(box)
    pen = ImageDraw.Draw(tile)
    h = bottom - top
    for x in range(-h, right - left + h, 18):
        pen.line([(x, h), (x + h, 0)], fill=colour, width=2)
    image.paste(tile, (left, top))


def _value_label(
    draw: ImageDraw.ImageDraw,
    plot: _Plot,
    i: int,
    row: RankRow,
    v: float,
    unit: str,
    lang: Lang,
    font: ImageFont.FreeTypeFont,
    shared: bool,
) -> None:
    """Each value inside its bar, at the start (white), clear of the whisker; outside, after
    the whisker, when the bar is too short to hold it."""
    text = fmt.metric_value(row.value, unit, lang) + ("*" if row.estimated else "")
    if not shared:  # else the period is said once, in the title
        text += f" · {row.period}"
    low = row.p10 if row.p10 is not None else v
    y = plot.y(i)
    if min(v, low) > plot.xmax * 0.22:
        x = plot.x(plot.xmax * 0.01)
        colour = ARCHETYPE_COLOURS.get(row.archetype, "#9e9e9e")
        box = draw.textbbox((x, y), text, font=font, anchor="lm")
        draw.rectangle((box[0] - 3, box[1] - 3, box[2] + 3, box[3] + 3), fill=colour)
        draw.text((x, y), text, font=font, fill="white", anchor="lm")
    else:
        end = max(v, row.p90 or v)
        draw.text((plot.x(end + plot.xmax * 0.01), y), text, font=font, fill=DARK, anchor="lm")


def _legend_items(rows: list[RankRow], lang: Lang) -> list[tuple[str, str | None]]:
    """(label, colour) of each archetype shown, then the edge builders' hatch (None)."""
    shown = {row.archetype for row in rows}
    items: list[tuple[str, str | None]] = [
        (ARCHETYPES[a].name(lang), c) for a, c in ARCHETYPE_COLOURS.items() if a in shown
    ]
    if any("edge_builder" in row.tags for row in rows):
        items.append((ARCHETYPES["edge_builder"].name(lang), None))
    return [(text, colour) for text, colour in items if text.strip()]


def _legend(
    image: Image.Image,
    draw: ImageDraw.ImageDraw,
    items: list[tuple[str, str | None]],
    plot: _Plot,
    top: int,
    font: ImageFont.FreeTypeFont,
) -> None:
    """Under the plot, never over a bar, centred under 40% of its width, three a row."""
    em = LABEL_PT * PX
    patch, gap, spacing = round(2 * em), round(0.8 * em), round(2 * em)
    for start in range(0, len(items), 3):
        row = items[start : start + 3]
        widths = [patch + gap + round(draw.textlength(text, font=font)) for text, _ in row]
        x = (
            plot.left
            + 0.4 * (plot.right - plot.left)
            - (sum(widths) + spacing * (len(row) - 1)) / 2
        )
        y = top + 44 * (start // 3) + 22
        for (text, colour), width in zip(row, widths, strict=True):
            box = (round(x), round(y - 0.35 * em), round(x) + patch, round(y + 0.35 * em))
            if colour is None:  # the hatch, as on the bars
                draw.rectangle(box, fill="white", outline="#424242", width=2)
                _hatch(image, (box[0] + 2, box[1] + 2, box[2] - 1, box[3] - 1), "#424242")
            else:
                draw.rectangle(box, fill=colour)
            draw.text((x + patch + gap, y), text, font=font, fill=DARK, anchor="lm")
            x += width + spacing


def _one_period(r: Ranking) -> str | None:
    periods = {row.period for row in r.rows if row.value is not None}
    return periods.pop() if len(periods) == 1 else None


def _rank_title(r: Ranking, lang: Lang) -> str:
    """The period once, here: the one every bar shares, else "each company's latest"."""
    period = _one_period(r) or (t("latest", lang) if r.period == "latest" else r.period)
    return t("rank_title", lang, metric=METRICS[r.metric].name(lang), period=period)
