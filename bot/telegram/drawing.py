"""The matplotlib side of the charts (bot.telegram.charts is the front, and imports this on
first use, so the bot starts without loading matplotlib).

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
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from bot.text import fmt
from bot.text.i18n import Lang, t
from bot.text.terms import archetype, name
from tools.breakdown import TierBreakdown
from tools.ranking import Ranking, RankRow
from tools.taxonomy import ARCHETYPES, LAYER_TERMS, METRICS

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
LAYER_COLOURS = ("#b0bec5", "#78909c", "#1e88e5", "#0d47a1")  # margin ladder, low to high
ALLOCATION_COLOURS = ("#a5d6a7", "#2e7d32", "#ffb74d", "#e07a1f")  # own, own, sold, sold
LIGHT = {"#b0bec5", "#a5d6a7", "#ffb74d"}  # too pale under white text
WIDTH_IN, DPI = 7.0, 160
LABEL_PT, TITLE_PT = 14, 16
NAME_CHARS = 28  # of a company's name on a chart (CJK characters count double)


@cache
def registered(preferred: Path | None) -> str | None:
    """The family name of the first CJK font found (registered with matplotlib), else None."""
    candidates: list[Path | str] = [*([preferred] if preferred else []), *CJK_FONT_FILES]
    for path in candidates:
        if Path(path).is_file():
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    return None


def _short(text: str) -> str:
    """A name as it fits a label of the 7-inch-wide chart: a long one ends in "…"."""
    limit = NAME_CHARS // 2 if any(ord(ch) > 0x2E80 for ch in text) else NAME_CHARS
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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


def ranking(r: Ranking, lang: Lang, footer: str, family: str) -> bytes:
    """Horizontal bars of the point values, whole p10–p90 whiskers, coloured by archetype;
    the legend under the plot, the footer (sources, data date, bot) at the bottom."""
    with matplotlib.rc_context(_style(family)):
        fig = _figure(2.6 + 0.55 * len(r.rows))
        _draw_ranking(fig, r, lang)
        # Under the legend, across the whole width (over the plot it ran off the picture
        # beside long names): what the bar and the whisker are, then the footer.
        _footer(
            fig, "\n".join(filter(None, [t("chart_whiskers", lang, samples=r.samples), footer]))
        )
        return _png(fig)


def _draw_ranking(fig: Figure, r: Ranking, lang: Lang) -> None:
    ax = fig.add_subplot()
    rows = list(reversed(r.rows))  # rank 1 on top
    ys = list(range(len(rows)))
    values = [row.value or 0.0 for row in rows]
    colours = [ARCHETYPE_COLOURS.get(row.archetype, "#9e9e9e") for row in rows]
    hatches = ["///" if "edge_builder" in row.tags else "" for row in rows]
    bars = ax.barh(ys, values, color=colours, height=0.62, edgecolor="white")
    for bar, hatch in zip(bars, hatches, strict=True):
        bar.set_hatch(hatch)
    _whiskers(ax, rows, values)
    labels = [_short(name(row, lang)) for row in rows]
    ax.set_yticks(
        ys, [f"{row.rank}. {n}" if row.rank else n for row, n in zip(rows, labels, strict=True)]
    )
    top = max((max(v, row.p90 or v) for v, row in zip(values, rows, strict=True)), default=1.0)
    right = 1.0 if r.unit != "usd" else (top * 1.05 or 1.0)  # shares end at 100%
    ax.set_xlim(0, right)
    _value_labels(ax, rows, values, r.unit, lang, right)
    ax.xaxis.set_major_locator(MaxNLocator(5))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: _axis(x, r.unit, lang)))
    ax.grid(axis="x", color="#e0e0e0")
    ax.set_axisbelow(True)
    fig.suptitle(_rank_title(r, lang), x=0.01, ha="left", fontsize=TITLE_PT)
    _legend(ax, {row.archetype for row in rows}, any(h for h in hatches), lang)


def _one_period(r: Ranking) -> str | None:
    periods = {row.period for row in r.rows if row.value is not None}
    return periods.pop() if len(periods) == 1 else None


def _rank_title(r: Ranking, lang: Lang) -> str:
    """The period once, here: the one every bar shares, else "each company's latest"."""
    period = _one_period(r) or (t("latest", lang) if r.period == "latest" else r.period)
    return t("rank_title", lang, metric=METRICS[r.metric].name(lang), period=period)


def _whiskers(ax: Axes, rows: list[RankRow], values: list[float]) -> None:
    """p10–p90 drawn whole, from its own ends, even where the range misses the bar."""
    for y, (row, v) in enumerate(zip(rows, values, strict=True)):
        low = row.p10 if row.p10 is not None else v
        high = row.p90 if row.p90 is not None else v
        if high > low:
            mid, half = (low + high) / 2, (high - low) / 2
            ax.errorbar(
                [mid], [y], xerr=[[half], [half]], fmt="none", ecolor="#212121", capsize=6, lw=1.8
            )


def _value_labels(
    ax: Axes, rows: list[RankRow], values: list[float], unit: str, lang: Lang, right: float
) -> None:
    """Each value inside its bar, at the start (white), clear of the whisker; outside, after
    the whisker, when the bar is too short to hold it."""
    shared = len({row.period for row in rows}) == 1
    for y, (row, v) in enumerate(zip(rows, values, strict=True)):
        label = fmt.metric_value(row.value, unit, lang) + ("*" if row.estimated else "")
        if not shared:
            label += f" · {row.period}"
        low = row.p10 if row.p10 is not None else v
        if min(v, low) > right * 0.22:
            box = {
                "facecolor": ARCHETYPE_COLOURS.get(row.archetype, "#9e9e9e"),
                "edgecolor": "none",
                "pad": 1.5,
            }
            ax.text(right * 0.01, y, label, va="center", color="white", bbox=box)
        else:
            end = max(v, row.p90 or v)
            ax.text(end + right * 0.01, y, label, va="center", color="#212121")


def _axis(x: float, unit: str, lang: Lang) -> str:
    """Short tick labels (the full amount is on each bar), so five ticks fit a phone."""
    if unit != "usd":
        return f"{x * 100:.0f}%"
    return f"{x / 1e8:,.0f}亿" if lang == "zh" else f"${x / 1e9:,.0f}bn"


def _legend(ax: Axes, archetypes: set[str], edge: bool, lang: Lang) -> None:
    """Under the plot, never over a bar; only entries with a name."""
    order = [a for a in ARCHETYPE_COLOURS if a in archetypes]
    handles = [Patch(color=ARCHETYPE_COLOURS[a], label=ARCHETYPES[a].name(lang)) for a in order]
    if edge:
        handles.append(
            Patch(
                facecolor="white",
                edgecolor="#424242",
                hatch="///",
                label=ARCHETYPES["edge_builder"].name(lang),
            )
        )
    handles = [h for h in handles if str(h.get_label()).strip()]
    if handles:
        ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.4, -0.07),
            ncols=min(len(handles), 3),
            frameon=False,
        )


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
            f"{_short(name(b, lang))} · {b.period}{star}\n{archetype(b.archetype, b.tags, lang)}",
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
