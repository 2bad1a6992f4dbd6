"""Charts: PNGs with every label drawn (Chinese too), sized for a phone."""

from __future__ import annotations

import struct
import warnings

import pytest
from fontTools.ttLib import TTCollection
from PIL import ImageDraw

from bot.telegram import charts
from bot.text.i18n import t
from bot.text.terms import name
from tools import breakdown, ranking
from tools.store import Store


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", data[16:24])


def test_a_cjk_font_is_installed_and_used():
    assert charts.cjk_font() == "WenQuanYi Micro Hei"


@pytest.fixture
def drawn_text(monkeypatch) -> list[str]:
    """Every text Pillow draws (the ranking chart is drawn with Pillow, which does not warn
    of a missing glyph as matplotlib does: it draws a box)."""
    texts: list[str] = []
    draw_text = ImageDraw.ImageDraw.text

    def text(self, xy, text, *args, **kwargs):
        texts.append(text)
        return draw_text(self, xy, text, *args, **kwargs)

    monkeypatch.setattr(ImageDraw.ImageDraw, "text", text)
    return texts


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("metric", ["self_use_inference_share", "ai_capex_usd"])
def test_ranking_chart_draws_every_glyph(store: Store, lang, metric, drawn_text):
    r = ranking.rank(store.universe(), metric)
    footer = t("chart_footer", lang, date="2026-01-01", revision=1, bot="@inference_lens_bot")
    png = charts.ranking_chart(r, lang, footer)
    cmap = TTCollection(str(charts.font_path())).fonts[0].getBestCmap()
    drawn = "".join(drawn_text)
    assert all(name(row, lang)[:5] in drawn for row in r.rows[:20])  # the names, whole or cut
    assert {ch for ch in drawn if ord(ch) not in cmap and not ch.isspace()} == set()
    width, height = png_size(png)
    # legible at phone width, within Telegram's photo limits (width + height ≤ 10,000, ratio ≤ 20)
    assert width == 1120 and height > 1000 and width + height <= 10_000 and height / width <= 20
    assert len(png) > 30_000


def test_a_ranking_page_chart_is_a_phone_picture(store: Store):
    """One page (ten rows) as the bot sends it: 1,120 pixels wide, ten rows tall."""
    r = ranking.rank(store.universe())
    page = r.model_copy(update={"rows": r.rows[:10]})
    assert png_size(charts.ranking_chart(page, "zh")) == (1120, round((2.6 + 0.55 * 10) * 160))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_tiers_chart_draws_every_glyph(store: Store, lang):
    b = breakdown.tiers(store.universe(), "bytedance")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        png = charts.tiers_chart(b, lang)
    assert png_size(png)[0] == 1120


def test_usd_metric_chart(store: Store):
    r = ranking.rank(store.universe(), "self_use_inference_usd")
    assert png_size(charts.ranking_chart(r, "zh"))[0] == 1120


def test_the_tiers_result_carries_each_shares_range_for_the_chart(store: Store):
    b = breakdown.tiers(store.universe(), "xiaomi")
    snap = store.universe().companies["xiaomi"].snapshot(b.period)
    assert snap is not None
    assert b.layer_ranges["edge"] == snap.layer_mix.edge.bounds
    assert b.allocation_ranges["own_inference"] == snap.allocation.own_inference.bounds
    low, high = b.layer_ranges["edge"]
    assert low < b.layer_mix["edge"] < high  # a real range, drawn as a whisker
    assert png_size(charts.tiers_chart(b, "en"))[0] == 1120
