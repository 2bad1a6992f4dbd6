"""A free-text answer about one company or the ranking carries what the matching command
carries: its chart and buttons, and the deep link that opens it (the answer's own words stay
the text)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bot.telegram import commands
from bot.text.i18n import Lang
from tools.store import Store
from tools.taxonomy import METRICS

COMPANY_TOOLS = ("tier_breakdown", "company_profile", "history")


class ToolCall(Protocol):
    name: str
    arguments: dict[str, Any] | str


@dataclass(frozen=True)
class Match:
    command: str  # "tiers" or "rank"
    company: str | None  # the company's id, for "tiers"
    reply: commands.Reply  # what the command answers


def matching(store: Store, lang: Lang, calls: Sequence[ToolCall]) -> Match | None:
    """The command view the answer's tool calls amount to: /tiers of the one company they
    looked at, or /rank when they only ranked; None for anything else."""
    args = [(c.name, c.arguments) for c in calls if isinstance(c.arguments, dict)]
    companies = {a.get("company") for name, a in args if name in COMPANY_TOOLS}
    names = {name for name, _ in args}
    if len(companies) == 1 and None not in companies and names <= {*COMPANY_TOOLS, "find_company"}:
        cid = commands.company_id(store, str(companies.pop()))
        return Match("tiers", cid, commands.tiers(store, lang, [cid])) if cid else None
    if names == {"rank"}:
        metrics = {a.get("metric") for _, a in args}
        metric = metrics.pop() if len(metrics) == 1 else None
        return Match(
            "rank", None, commands.rank(store, lang, [metric] if metric in METRICS else [])
        )
    return None
