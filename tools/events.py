"""Ranking-change events, the data side of alerts: the events an import makes, and whom to tell.

At every import that adds a revision (CLI or admin upload), the ranking before and after is
diffed (tools.history.diff) for the default metric and for every metric a subscription uses.
Each order change, archetype change and metric move becomes an event with a deterministic id.
This runs as the import's revision hook (tools.importing): the events are staged in short
transactions before the revision is published, so the revision and its events appear together
or not at all. The subscriptions are the bot's (in its file beside
the store, tools.botfile: read here, never written); the bot's alerts job gives every chat
that follows some event of a new revision one message, and sends it (bot/alerts/).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from pydantic import BaseModel, model_validator

from tools import botfile
from tools.confidence import OrderConfidence, order_confidence
from tools.history import EventKind, InputChange, Move, diff
from tools.importing import Target, stage
from tools.ranking import ordered, select
from tools.taxonomy import DEFAULT_METRIC, METRICS
from tools.universe import Assessment, Universe


class Confidence(OrderConfidence):
    """A company the event's company changed places with: `p` = P(the new order of the pair
    holds), `level` its rung on the ladder (tools.confidence)."""

    company: str
    name: str
    name_zh: str
    above: bool  # the event's company is now above this one

    @model_validator(mode="before")
    @classmethod
    def _level_of_older_events(cls, data: Any) -> Any:
        """Events stored before the ladder existed carry only `p`: place it on the ladder."""
        if isinstance(data, dict) and "level" not in data and "p" in data:
            return {**data, "level": order_confidence(data["p"], move=True).level}
        return data


class AlertEvent(BaseModel):
    id: str
    revision: int
    kind: EventKind
    metric: str
    company: str
    name: str
    name_zh: str
    old_rank: int | None
    new_rank: int | None
    total: int
    old_value: float | None
    new_value: float | None
    old_period: str | None
    new_period: str | None
    old_archetype: str | None
    new_archetype: str | None
    currency: str | None
    changes: list[InputChange]
    confidence: list[Confidence]


def event_id(revision: int, kind: EventKind, company: str, metric: str) -> str:
    """The same import always names its events the same. An archetype does not depend on
    the ranking metric, so its event is one whatever metrics are followed."""
    parts = [f"r{revision}", kind, company]
    return ":".join(parts if kind == "archetype" else [*parts, metric])


def detect(
    before: Universe, after: Universe, revision: int, metrics: Iterable[str]
) -> list[AlertEvent]:
    """The events between two rankings, for each metric, without duplicates.

    A company whose rank changed only because another entered above it gets no order event:
    it changed places with nobody; the newcomer's event tells the story.
    """
    events: dict[str, AlertEvent] = {}
    chosen = select(after, None, None)  # assessed once for every metric: seconds at 5,000
    for metric in dict.fromkeys(metrics):
        ranks = new_ranks(chosen, metric)
        for move in diff(before, after, metric).moves:
            for kind in move.kinds:
                if kind == "order" and move.old_rank is not None and not move.passed:
                    continue
                event = _event(move, kind, metric, revision, ranks, after)
                events.setdefault(event.id, event)
    return list(events.values())


def new_ranks(chosen: list[Assessment], metric: str) -> dict[str, int]:
    """Each company's rank by a metric, among `chosen` (each company's latest period)."""
    return {chosen[i].company.id: rank for rank, i in enumerate(ordered(chosen, metric), 1)}


def _event(
    move: Move, kind: EventKind, metric: str, revision: int, ranks: dict[str, int], after: Universe
) -> AlertEvent:
    return AlertEvent(
        id=event_id(revision, kind, move.company, metric),
        revision=revision,
        kind=kind,
        metric=metric,
        company=move.company,
        name=move.name,
        name_zh=move.name_zh,
        old_rank=move.old_rank,
        new_rank=move.new_rank,
        total=len(ranks),
        old_value=move.old_value,
        new_value=move.new_value,
        old_period=move.old_period,
        new_period=move.new_period,
        old_archetype=move.old_archetype,
        new_archetype=move.new_archetype,
        currency=_capex_currency(move, after),
        changes=move.changes,
        confidence=_confidence(move, after) if kind == "order" else [],
    )


def _capex_currency(move: Move, after: Universe) -> str | None:
    """The currency of the capex figures, when a change of them will be shown."""
    if not any(c.field == "ai_capex" and c.old is not None for c in move.changes):
        return None
    snapshot = after.companies[move.company].snapshot(move.new_period)
    return snapshot.ai_capex.currency if snapshot else None


def _confidence(move: Move, after: Universe) -> list[Confidence]:
    """P(the new order holds) against each company the mover changed places with."""
    out = []
    for passed in move.passed:
        info = after.info[passed.company]
        pair = passed.model_dump(include={"company", "above", "p", "level"})
        out.append(Confidence(name=info.name.en, name_zh=info.name.zh, **pair))
    return out


def record_changes(store: Target, previous: int | None, revision: int) -> None:
    """Store revision hook, run once the revision's records are staged (tools.importing): its
    events, by the metrics chats follow, are staged too, a chunk per short transaction; the
    bot's alerts job gives the chats their messages once the revision is published."""
    if previous is None:
        return  # nothing to compare with
    followed = botfile.of(store).followed_metrics()
    if not followed:
        return  # nobody to tell: a bulk import stays fast
    metrics = [DEFAULT_METRIC, *(m for m in followed if m in METRICS)]
    events = detect(store.universe(previous), store.universe(revision), revision, metrics)
    stage(store, "alert_events", _rows(events))


def _rows(events: list[AlertEvent]) -> Iterator[dict[str, Any]]:
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return (
        {
            "id": e.id,
            "revision_id": e.revision,
            "kind": e.kind,
            "company": e.company,
            "metric": e.metric,
            "new_rank": e.new_rank,
            "body": e.model_dump_json(),
            "created_at": created,
        }
        for e in events
    )
