"""Issue 13: charts are drawn by the drawing processes from one queue, a live request's chart
ahead of every warm-up chart still waiting — the real bot over the fake Telegram, the real
warm-up and drawing processes, a fresh database (no charts on disk)."""

from __future__ import annotations

from telegram_harness import running_bot, until

from bot.telegram import charts, commands
from bot.telegram.charts import LIVE, WARM, Event
from tools.store import Store

PNG = b"\x89PNG\r\n\x1a\n"


def jumped(events: list[Event]) -> tuple[int, int]:
    """For the last live chart: (warm-up charts waiting when it was queued, warm-up charts
    started between its queueing and its start)."""
    queued = max(i for i, e in enumerate(events) if e.what == "queued" and e.priority == LIVE)
    job = events[queued].job
    began = next(i for i, e in enumerate(events) if e.what == "started" and e.job == job)
    started = {e.job for e in events[:queued] if e.what == "started"}
    waiting = {e.job for e in events[:queued] if e.what == "queued" and e.priority == WARM}
    overtook = [e for e in events[queued:began] if e.what == "started" and e.priority == WARM]
    return len(waiting - started - {job}), len(overtook)


async def test_a_live_chart_is_drawn_ahead_of_queued_warm_up_charts(telegram, store: Store):
    drawers = charts.start_drawing()
    reader = telegram.user(7001, language_code="en")
    bottom = commands.top_companies(store, 1_000)[-3:]  # never warmed: not the top
    async with running_bot(telegram, store, warm_up=True):
        for company in bottom:  # again when the warm-up had nothing waiting at that moment
            await until(lambda: drawers.waiting() > 0, timeout=120)  # the warm-up is under way
            telegram.clear(reader.id)
            telegram.user_says(reader, f"/tiers {company}")
            got = await telegram.wait_quiet(reader.id)
            assert got[0].photo is not None and got[0].photo.startswith(PNG)
            waiting, overtook = jumped(list(drawers.events))
            if waiting:
                break
        assert waiting > 0, "the warm-up never had a chart waiting"
        assert overtook == 0  # none of the waiting warm-up charts was started before it
