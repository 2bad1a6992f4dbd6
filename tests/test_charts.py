"""Charts: PNGs with every label drawn (Chinese too), sized for a phone."""

from __future__ import annotations

import struct
import warnings

import pytest

from bot.telegram import charts
from tools import breakdown, ranking
from tools.store import Store


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return struct.unpack(">II", data[16:24])


def test_a_cjk_font_is_installed_and_used():
    assert charts.cjk_font() == "WenQuanYi Micro Hei"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_ranking_chart_draws_every_glyph(store: Store, lang):
    r = ranking.rank(store.universe())
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns "Glyph ... missing from font(s)"
        png = charts.ranking_chart(r, lang)
    width, height = png_size(png)
    # legible at phone width, within Telegram's photo limits (width + height ≤ 10,000, ratio ≤ 20)
    assert width == 1120 and height > 1000 and width + height <= 10_000 and height / width <= 20
    assert len(png) > 30_000


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
