"""Charts on disk beside the database: a restarted bot reads back what it drew before (its
first /rank in the first minute is not drawn again), within a bounded number of files."""

from __future__ import annotations

from bot.telegram import commands
from bot.telegram.chartfiles import ChartFiles
from tools.store import Store


def test_a_chart_drawn_before_a_restart_is_read_back(tmp_path):
    drawn: list[str] = []

    def draw(name: str) -> bytes:
        drawn.append(name)
        return name.encode()

    assert ChartFiles(tmp_path).get("rank:en:abc", lambda: draw("first")) == b"first"
    restarted = ChartFiles(tmp_path)
    assert restarted.get("rank:en:abc", lambda: draw("again")) == b"first"
    assert drawn == ["first"]


def test_the_folder_keeps_a_bounded_number_of_charts(tmp_path):
    files = ChartFiles(tmp_path, keep=3)
    for i in range(10):
        files.get(f"k{i}", lambda i=i: bytes([i]))
    kept = sorted(p.read_bytes() for p in tmp_path.glob("*.png"))
    assert kept == [bytes([7]), bytes([8]), bytes([9])]  # the newest


def test_the_bot_keeps_its_charts_beside_the_database(store: Store):
    reply = commands.rank(store, "en", [])
    assert reply.chart is not None
    folder = store.path.with_name(store.path.name + ".charts")
    assert reply.chart.png in [p.read_bytes() for p in folder.glob("*.png")]
