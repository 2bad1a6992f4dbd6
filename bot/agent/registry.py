"""The tools the LLM may call: one registry of typed functions over the toolkit.

Each tool is a function `(ctx, args) -> view` whose docstring is its description and whose
`args` type (a pydantic model) is its JSON schema. `call` never raises: a bad name, bad JSON,
bad arguments or an unknown company become an error result the LLM can correct itself from.
"""

from __future__ import annotations

import difflib
import json
import logging
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.agent import per_data
from bot.agent import views as v
from bot.agent.calculator import MAX_EXPRESSION, CalcView, evaluate
from bot.agent.capping import MAX_RESULT_CHARS, capped
from bot.text import terms
from bot.text.i18n import Lang, t
from tools import breakdown, ranking
from tools import history as hist
from tools import whatif as wi
from tools.archetypes import rules, tag_rules
from tools.errors import BadArgument, ToolkitError, UnknownCompany
from tools.resolve import Resolver
from tools.store import Store
from tools.taxonomy import ARCHETYPES, DEFAULT_METRIC, LAYER_TERMS, METRICS
from tools.universe import Universe

log = logging.getLogger(__name__)


MetricId = Literal[
    "self_use_inference_share",
    "inference_self_use_ratio",
    "external_supply_share",
    "self_use_inference_usd",
    "margin_position",
    "ai_capex_usd",
]
# [0-9], not \d: llama.cpp turns a schema into a grammar that has no \d (nor lookarounds).
Period = Annotated[str, Field(pattern=r"^[0-9]{4}$", description="year; default latest")]
CompanyName = Annotated[str, Field(min_length=1, description="id, name, alias or ticker")]


@dataclass
class ToolContext:
    """What a tool may use: the data, and who is asking (never taken from LLM arguments)."""

    store: Store
    universe: Universe
    lang: Lang
    chat_id: str = "cli"
    user_id: str | None = None
    resolver: Resolver = field(init=False)

    def __post_init__(self) -> None:
        self.resolver = per_data.resolver(self.universe)

    def company(self, query: str) -> str:
        return self.resolver.resolve(query)


class Args(BaseModel):
    # Unknown fields are refused so a misnamed argument is reported, not silently dropped.
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class FindArgs(Args):
    query: str = Field(min_length=1, description="name, alias, ticker or misspelling")


class CompanyArgs(Args):
    company: CompanyName
    period: Period | None = None


class RankArgs(Args):
    metric: MetricId = DEFAULT_METRIC
    region: str | None = Field(None, description="CN, US")
    period: Period | None = None
    top: int | None = Field(None, ge=1, le=50)


class CompareArgs(Args):
    companies: list[CompanyName] = Field(min_length=2, max_length=6)
    metric: MetricId = DEFAULT_METRIC
    period: Period | None = None


class HistoryArgs(Args):
    company: CompanyName
    metric: MetricId = DEFAULT_METRIC


class WhatIfArgs(Args):
    company: CompanyName
    overrides: dict[str, float] = Field(
        default_factory=dict,
        description="input→new value, shares as fractions: own_inference, own_training, "
        "external_iaas, external_maas, external_supply_share, layer_mix.<layer>, "
        "ai_capex (company currency)",
    )
    sell_own_inference: float | None = Field(
        None, gt=0, le=1, description="fraction of own_inference moved to external_maas"
    )
    metric: MetricId = DEFAULT_METRIC
    period: Period | None = None

    @model_validator(mode="after")
    def _something_changes(self) -> WhatIfArgs:
        if not self.overrides and self.sell_own_inference is None:
            raise ValueError("give overrides or sell_own_inference")
        return self


class CalculateArgs(Args):
    expression: str = Field(min_length=1, max_length=MAX_EXPRESSION, description="e.g. 141e9-55e9")


class MethodologyArgs(Args):
    topic: Literal["all", "layers", "metrics", "archetypes", "thesis"] = "all"


@dataclass(frozen=True)
class Found:
    """What a tool found: the toolkit's result, from which people's text is said (bot.text),
    and its view, which the LLM reads. Lookups and definitions have a view only."""

    view: BaseModel
    data: BaseModel | None = None


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args: type[Args]
    run: Callable[[ToolContext, Any], Found]

    def schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": compact_schema(self.args),
            },
        }


TOOLS: dict[str, Tool] = {}


def tool(fn: Callable[[ToolContext, Any], Found]) -> Callable[[ToolContext, Any], Found]:
    """Register a function as a tool: name, description and argument model from the function."""
    args = typing.get_type_hints(fn)["args"]
    description = " ".join((fn.__doc__ or "").split())
    TOOLS[fn.__name__] = Tool(fn.__name__, description, args, fn)
    return fn


def compact_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema without titles and with `X | None` as plain X: every token
    of it is sent with every request."""
    schema = model.model_json_schema()
    props = {name: _simplify(prop) for name, prop in schema["properties"].items()}
    out: dict[str, Any] = {"type": "object", "properties": props}
    if schema.get("required"):
        out["required"] = schema["required"]
    return out


def _simplify(prop: dict[str, Any]) -> dict[str, Any]:
    base = dict(prop)
    options = [o for o in base.pop("anyOf", []) if o.get("type") != "null"]
    if len(options) == 1:
        base |= options[0]
    elif options:
        base["anyOf"] = options
    base.pop("title", None)
    if "default" in base and base["default"] is None:
        del base["default"]
    for key in ("items", "additionalProperties"):
        if isinstance(base.get(key), dict):
            base[key] = _simplify(base[key])
    return base


def schemas() -> list[dict[str, Any]]:
    return [tool.schema() for tool in TOOLS.values()]


# --- the tools ---


@tool
def find_company(ctx: ToolContext, args: FindArgs) -> Found:
    """Find companies by name, alias, ticker or misspelling; lists the periods with data."""
    ids = ctx.resolver.find_in(args.query, typos=True)
    if not ids:
        try:
            ids = [ctx.company(args.query)]
        except UnknownCompany as exc:
            return Found(v.FindView(query=args.query, matches=[], suggestions=exc.suggestions))
    return Found(v.FindView(query=args.query, matches=[_ref(ctx, cid) for cid in ids]))


def _ref(ctx: ToolContext, cid: str) -> v.CompanyRef:
    c = ctx.universe.companies[cid]
    name, other = (c.name.zh, c.name.en) if ctx.lang == "zh" else (c.name.en, c.name.zh)
    periods = [s.period for s in c.snapshots]
    return v.CompanyRef(
        id=cid, name=name, other_name=other, region=c.region, tickers=c.tickers, periods=periods
    )


@tool
def company_profile(ctx: ToolContext, args: CompanyArgs) -> Found:
    """A company's inputs (AI capex, compute allocation with ranges, estimate flags, notes,
    source ids), metrics, archetype, context facts and cited sources."""
    p = breakdown.profile(ctx.universe, ctx.company(args.company), args.period)
    return Found(v.profile_view(p, ctx.lang), p)


@tool
def tier_breakdown(ctx: ToolContext, args: CompanyArgs) -> Found:
    """A company's split over the four layers (iaas, maas, solutions, edge), its archetype and
    the rule that fired, metrics and sources."""
    b = breakdown.tiers(ctx.universe, ctx.company(args.company), args.period)
    return Found(v.tiers_view(b, ctx.lang), b)


@tool
def rank(ctx: ToolContext, args: RankArgs) -> Found:
    """Rank companies by a metric, high to low, with p10-p90 ranges, rank ranges and
    P(above next); default each company's latest period."""
    r = per_data.rank(ctx.universe, args.metric, args.period, args.region, args.top)
    # The view is capped to MAX_RESULT_CHARS anyway: rows past what could fit are not built
    # (each row's JSON is over 100 characters), so 5,000 companies cost what 120 do.
    listed = r.model_copy(update={"rows": r.rows[: MAX_RESULT_CHARS // 100]})
    return Found(v.rank_view(listed, ctx.universe, ctx.lang), r)


@tool
def compare(ctx: ToolContext, args: CompareArgs) -> Found:
    """Compare companies on a metric, with P(A ranks above B) for each pair."""
    ids = list(dict.fromkeys(ctx.company(q) for q in args.companies))
    if len(ids) < 2:
        raise BadArgument("name at least two different companies")
    c = ranking.compare(ctx.universe, ids, args.metric, args.period)
    unit = METRICS[args.metric].unit
    return Found(v.compare_view(c, unit, args.period or "latest", ctx.universe, ctx.lang), c)


@tool
def history(ctx: ToolContext, args: HistoryArgs) -> Found:
    """A company's rank per period and its ranking changes between periods and data
    revisions, with the inputs that changed (attribution)."""
    cid = ctx.company(args.company)
    revisions = (ctx.store.universe(r.id) for r in ctx.store.revisions())
    h = hist.history(ctx.universe, revisions, cid, args.metric)
    return Found(v.history_view(h, METRICS[args.metric].unit, ctx.lang), h)


@tool
def what_if(ctx: ToolContext, args: WhatIfArgs) -> Found:
    """Change a company's inputs hypothetically and see its new rank, metric and archetype
    (other shares rescale to keep the sum 1; nothing is saved)."""
    cid = ctx.company(args.company)
    overrides = dict(args.overrides)
    if args.sell_own_inference is not None:
        overrides |= sell_inference(ctx.universe, cid, args.period, args.sell_own_inference)
    w = wi.whatif(ctx.universe, cid, overrides, args.metric, args.period)
    unit = METRICS[args.metric].unit
    return Found(v.whatif_view(w, unit, args.sell_own_inference, ctx.lang), w)


def sell_inference(
    universe: Universe, cid: str, period: str | None, fraction: float
) -> dict[str, float]:
    """Overrides moving `fraction` of own-use inference to inference sold as MaaS."""
    snap = universe.snapshot(universe.companies[cid], period)
    own, maas = snap.allocation.own_inference.value, snap.allocation.external_maas.value
    return {"own_inference": own * (1 - fraction), "external_maas": maas + own * fraction}


@tool
def calculate(ctx: ToolContext, args: CalculateArgs) -> Found:
    """Arithmetic (+ - * / and brackets) over figures copied from this turn's tool results:
    sums, differences, ratios, conversions. Only results over the tools' figures may be said."""
    return Found(CalcView(expression=args.expression, value=round(evaluate(args.expression), 6)))


@tool
def methodology(ctx: ToolContext, args: MethodologyArgs) -> Found:
    """Definitions of the four layers, the metrics (with formulas), the archetypes (with
    rule thresholds) and the thesis, in the user's language."""
    want = {"layers", "metrics", "archetypes", "thesis"} if args.topic == "all" else {args.topic}
    lang = ctx.lang
    sections = {
        "layers": lambda: [_term(x, lang) for x in LAYER_TERMS.values()],
        "metrics": lambda: [
            _term(m, lang, unit=m.unit, formula=m.formula) for m in METRICS.values()
        ],
        "archetypes": lambda: [
            _term(a, lang, rule=archetype_rule(a.id, ctx.universe, lang))
            for a in ARCHETYPES.values()
        ],
    }
    lists = {name: build() for name, build in sections.items() if name in want}
    thesis = t("thesis_why", lang) if "thesis" in want else None
    return Found(v.MethodologyView(topic=args.topic, thesis=thesis, **lists))


def _term(term: Any, lang: Lang, **extra: str | None) -> v.TermView:
    return v.TermView(id=term.id, name=term.name(lang), definition=term.definition(lang), **extra)


def archetype_rule(archetype: str, universe: Universe, lang: Lang) -> str | None:
    """The rule with the thresholds in force (they live in data, so they are read, not typed)."""
    checks = {**rules(universe.thresholds), **tag_rules(universe.thresholds)}
    return terms.rule_spec(checks[archetype], lang) if archetype in checks else None


# --- calling ---


@dataclass
class Outcome:
    """One tool call as made: its name, arguments and what it found (an ErrorView when it
    failed)."""

    name: str
    arguments: dict[str, Any] | str
    found: Found
    call_id: str = ""

    @property
    def view(self) -> BaseModel:
        return self.found.view

    @property
    def ok(self) -> bool:
        return not isinstance(self.view, v.ErrorView)

    def result(self, limit: int = MAX_RESULT_CHARS) -> dict[str, Any]:
        return capped(self.view.model_dump(mode="json", exclude_none=True), limit)

    def content(self, limit: int = MAX_RESULT_CHARS) -> str:
        """The result as the LLM reads it: compact JSON (shorter for a small context)."""
        return json.dumps(self.result(limit), ensure_ascii=False, separators=(",", ":"))


def call(name: str, arguments: str | Mapping[str, Any] | None, ctx: ToolContext) -> Outcome:
    """Run one tool; every failure becomes an error result naming the problem."""
    tool = TOOLS.get(name)
    if tool is None:
        return Outcome(name, _raw(arguments), _error(f"unknown tool '{name}'", _near(name)))
    data = _parse(arguments)
    if isinstance(data, Found):
        return Outcome(name, _raw(arguments), data)
    try:
        args = tool.args.model_validate(data)
    except ValidationError as exc:
        return Outcome(name, data, _error(f"invalid arguments: {_problems(exc)}", _fields(tool)))
    return Outcome(name, data, _run(tool, ctx, args))


def _near(name: str) -> list[str]:
    """Tools an unknown name probably meant ("rank_companies" → rank), else all of them."""
    inside = [n for n in TOOLS if n in name or name in n]
    close = difflib.get_close_matches(name, TOOLS, n=3, cutoff=0.5)
    return list(dict.fromkeys([*inside, *close]))[:3] or list(TOOLS)


def _run(tool: Tool, ctx: ToolContext, args: Args) -> Found:
    try:
        return tool.run(ctx, args)
    except UnknownCompany as exc:
        hint = exc.suggestions or ["call find_company"]
        return _error(f"unknown company '{exc.query}'", hint)
    except ToolkitError as exc:
        return _error(str(exc))
    except Exception:  # a bug must not end the conversation; the log keeps the trace
        log.exception("tool %s failed", tool.name)
        return _error(f"internal error in {tool.name}; try other arguments or another tool")


def _parse(arguments: str | Mapping[str, Any] | None) -> dict[str, Any] | Found:
    if arguments is None or (isinstance(arguments, str) and not arguments.strip()):
        return {}
    if isinstance(arguments, Mapping):
        return dict(arguments)
    try:
        data = json.loads(arguments)
    except json.JSONDecodeError as exc:
        return _error(f"arguments are not valid JSON ({exc.msg} at char {exc.pos})")
    if not isinstance(data, dict):
        return _error("arguments must be a JSON object")
    return data


def _raw(arguments: str | Mapping[str, Any] | None) -> dict[str, Any] | str:
    return dict(arguments) if isinstance(arguments, Mapping) else (arguments or "")


def _error(message: str, suggestions: list[str] | None = None) -> Found:
    return Found(v.ErrorView(error=message, suggestions=suggestions or []))


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
    )


def _fields(tool: Tool) -> list[str]:
    """The accepted arguments, required ones marked, as the correction hint."""
    return [f"{name}{'' if f.is_required() else '?'}" for name, f in tool.args.model_fields.items()]
