"""The `inference-lens` command line: the toolkit for people and scripts.

Human output is an aligned table in the chosen language; `--json` is a stable contract.
Exit codes: 0 ok, 1 unknown company or period, 2 bad input (arguments or data files) or a
database that cannot be used as asked (StoreError: worded here, in the user's language).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydantic_core
import yaml
from pydantic import BaseModel

from bot.cli import redact
from bot.settings import Settings, SettingsError
from bot.text import changes, company, fmt, terms
from bot.text import evaluation as evaluation_text
from bot.text import ranking as ranking_text
from bot.text import whatif as whatif_text
from bot.text.doc import plain
from bot.text.i18n import Lang, t
from tools import breakdown, ranking
from tools import check as checks
from tools import history as hist
from tools import whatif as wi
from tools.dataio import are_shipped, check_references, load_files
from tools.errors import BadArgument, DataError, StoreError, UnknownCompany, UnknownPeriod
from tools.resolve import Resolver
from tools.store import ImportResult, Store
from tools.taxonomy import DEFAULT_METRIC, METRICS
from tools.universe import Universe


class Context:
    """What every command needs: the open store, the language, the output mode."""

    def __init__(self, args: argparse.Namespace, settings: Settings) -> None:
        self.args = args
        self.settings = settings
        self.lang: Lang = args.lang or settings.lang
        self.store = Store.open(args.db or settings.db)
        self.universe: Universe = self.store.universe()
        # A one-shot process: what it loaded lives until exit, so keep the cyclic GC from
        # re-walking it on every collection (half the run time over thousands of companies).
        gc.freeze()

    def company(self, query: str) -> str:
        return Resolver(self.universe.info.values()).resolve(query)

    def out(self, result: BaseModel | dict[str, Any], text: Callable[[], str]) -> None:
        if self.args.json:
            data = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
            # pydantic-core's encoder: the stdlib's goes pure Python when indenting (slow on
            # big rankings)
            print(pydantic_core.to_json(fmt.tidy(data), indent=2).decode())
        else:
            print(text())


def cmd_rank(ctx: Context) -> None:
    """Rank companies by a metric, with p10–p90 ranges from the uncertainty model.

    Example: inference-lens rank --metric external_supply_share --region CN --top 5
    """
    a = ctx.args
    result = ranking.rank(ctx.universe, a.metric, a.period, a.region, a.top)
    ctx.out(result, lambda: plain(ranking_text.ranking(result, ctx.lang)))


def cmd_tiers(ctx: Context) -> None:
    """Show a company's four-layer breakdown, archetype and the rule that fired.

    Example: inference-lens tiers 小米
    """
    result = breakdown.tiers(ctx.universe, ctx.company(ctx.args.company), ctx.args.period)
    ctx.out(result, lambda: plain(company.tiers(result, ctx.lang)))


def cmd_company(ctx: Context) -> None:
    """Show a company's inputs with ranges and sources, its metrics and context facts.

    Example: inference-lens company 1810.HK --period 2025
    """
    result = breakdown.profile(ctx.universe, ctx.company(ctx.args.company), ctx.args.period)
    ctx.out(result, lambda: plain(company.profile(result, ctx.lang)))


def cmd_compare(ctx: Context) -> None:
    """Compare companies on a metric, with P(A ranks above B) for each pair (at most 10).

    Example: inference-lens compare tencent alibaba bytedance
    """
    ranking.check_compare_size(ctx.args.companies)
    ids = list(dict.fromkeys(ctx.company(q) for q in ctx.args.companies))
    if len(ids) < 2:
        raise BadArgument("name at least two different companies")
    result = ranking.compare(ctx.universe, ids, ctx.args.metric, ctx.args.period)
    ctx.out(result, lambda: plain(ranking_text.comparison(result, ctx.lang)))


def cmd_history(ctx: Context) -> None:
    """Show a company's rank per period and how it moved across periods and data revisions.

    Example: inference-lens history baidu
    """
    revisions = (ctx.store.universe(r.id) for r in ctx.store.revisions())
    result = hist.history(ctx.universe, revisions, ctx.company(ctx.args.company), ctx.args.metric)
    ctx.out(result, lambda: plain(changes.history(result, ctx.lang)))


def cmd_whatif(ctx: Context) -> None:
    """Override a company's inputs and see its new metrics, archetype and rank (nothing is written).

    Keys: ai_capex, allocation.<own_training|own_inference|external_iaas|external_maas>,
    layer_mix.<iaas|maas|solutions|edge> (or the short name), external_supply_share.
    Shares as 0.2 or 20%; the other shares of the group are rescaled to keep the sum at 1.
    At most 12 overrides.
    Example: inference-lens whatif alibaba external_supply_share=20%
    """
    overrides = wi.parse_overrides(ctx.args.overrides)
    cid = ctx.company(ctx.args.company)
    result = wi.whatif(ctx.universe, cid, overrides, ctx.args.metric, ctx.args.period)
    ctx.out(result, lambda: plain(whatif_text.whatif(result, ctx.lang)))


def cmd_sources(ctx: Context) -> None:
    """List the sources behind the data, or those cited for one company.

    Example: inference-lens sources alibaba
    """
    if ctx.args.company:
        b = breakdown.profile(ctx.universe, ctx.company(ctx.args.company), ctx.args.period)
        sources, title = (
            b.sources,
            t(
                "sources_company_title",
                ctx.lang,
                name=terms.name(b, ctx.lang),
                period=b.period,
            ),
        )
    else:
        sources = sorted(ctx.universe.sources.values(), key=lambda s: s.id)
        title = t("sources_all_title", ctx.lang, n=len(sources))
    ctx.out(
        {"sources": [s.model_dump(mode="json") for s in sources]},
        lambda: plain(company.source_list(sources, ctx.lang, title)),
    )


def cmd_import(ctx: Context) -> None:
    """Validate a YAML or JSON data file and import it as a new revision (all or nothing).

    The file may hold at most 32 MB (MAX_FILE_BYTES); no inf/NaN, no key given twice.
    Example: inference-lens import my-estimates.yaml
    """
    before = ctx.universe
    result = ctx.store.import_file(Path(ctx.args.file), author="cli")
    moves = []
    if result.revision is not None:
        moves = hist.diff(before, ctx.store.universe(), DEFAULT_METRIC).moves
    # Not validated again, and dumped only for --json: 55,000 moves at 50,000 companies.
    report = ImportReport.model_construct(**dict(result), moves=moves)
    ctx.out(report, lambda: plain(changes.import_report(result, moves, DEFAULT_METRIC, ctx.lang)))


class ImportReport(ImportResult):
    """What `import --json` prints: the import, and who moved in the default ranking."""

    moves: list[hist.Move]


def cmd_export(ctx: Context) -> None:
    """Print the current data as YAML or JSON; the output is valid `import` input.

    Example: inference-lens export --format json > data.json
    """
    data = ctx.store.export().model_dump(mode="json", exclude_none=True)
    if ctx.args.format == "json":
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100), end="")


def cmd_check(ctx: Context) -> None:
    """Check the data beyond the schema; exits 1 on errors, not on warnings.

    Errors: a figure without a source, an estimate without a note. Warnings: stale figures,
    unused sources, neighbours in the ranking whose order is close to a coin flip. A missing
    translation (a text without zh or en, a fact key or unit without a display name) is an
    error when FILES are the shipped data files, else a warning.

    With FILES, checks those data files (merged) instead of the database.
    Example: inference-lens check data/*.yaml data/companies/*.yaml
    """
    paths = [Path(f) for f in ctx.args.files]
    if paths:
        dataset = load_files(paths)
        check_references(dataset, set(), set(), "files")
        universe = Universe.from_dataset(dataset)
    else:
        universe = ctx.universe
    today = dt.date.fromisoformat(ctx.args.today) if ctx.args.today else None
    report = checks.check(universe, today, shipped=are_shipped(paths))
    ctx.out(report, lambda: plain(changes.check_report(report, ctx.lang)))
    if report.errors:
        raise CheckFailed


def cmd_run(ctx: Context) -> None:
    """Run the Telegram bot: long polling, or a webhook server with --webhook-url and --port.

    Environment: TELEGRAM_BOT_TOKEN (required), TELEGRAM_API_BASE_URL, ADMIN_USER_IDS,
    LLM_DAILY_LIMIT, plus the LLM variables. Stops on Ctrl-C or SIGTERM.
    Example: TELEGRAM_BOT_TOKEN=123:abc inference-lens run
    """
    from bot.telegram import app  # the bot's libraries load only for this command
    from bot.telegram.poller_lock import AlreadyRunning

    a = ctx.args
    if (a.webhook_url is None) != (a.port is None):
        raise BadArgument("--webhook-url and --port go together")
    webhook = app.Webhook(a.webhook_url, a.port, a.listen) if a.webhook_url else None
    try:
        app.run(ctx.settings.telegram(), ctx.settings.llm, ctx.store, webhook)
    except (SettingsError, AlreadyRunning, app.CannotStart) as exc:
        raise BadArgument(str(exc)) from None


def cmd_ask(ctx: Context) -> None:
    """Ask a question in words (Chinese or English); every number in the answer is checked
    against the tools' results. An LLM answers when OPENAI_API_KEY or OPENAI_BASE_URL is set,
    the offline planner otherwise. Follow-ups ("and Tencent?") remember the last questions.

    Example: inference-lens ask "小米的自用推理占比排第几?" --json
    """
    from bot.cli import chat  # the agent and the LLM client load only for ask and chat

    chat.ask(ctx.store, ctx.settings.llm, ctx.args.question, ctx.args.lang, ctx.args.json)


def cmd_chat(ctx: Context) -> None:
    """An interactive session: ask in words, or use the Telegram bot's slash commands
    (/rank /tiers /company /compare /history /whatif /sources /methodology /help); /quit ends.

    Example: inference-lens chat --lang zh
    """
    from bot.cli import chat

    chat.chat(ctx.store, ctx.settings.llm, ctx.args.lang, ctx.lang, run=main)


def cmd_eval(ctx: Context) -> None:
    """Ask a question set of the configured LLM and report what it did: answers it wrote,
    claims rejected, fallbacks, its tool calls against the planner's, requests, tokens, latency.

    The default set is the public seed questions (zh and en); FILE has the shape of
    bench/data/questions.yaml. Needs OPENAI_BASE_URL or OPENAI_API_KEY (exit 2 without).
    Example: OPENAI_MODEL=deepseek-chat inference-lens eval --limit 5
    """
    from bot.cli import eval as evaluation  # the agent and the LLM client load only here

    a = ctx.args
    report = evaluation.evaluate(ctx.store, ctx.settings.llm, a.questions, a.limit, ctx.lang)
    ctx.out(report, lambda: plain(evaluation_text.report(report, ctx.lang)))


COMMANDS: dict[str, Callable[[Context], None]] = {
    "rank": cmd_rank,
    "tiers": cmd_tiers,
    "company": cmd_company,
    "compare": cmd_compare,
    "history": cmd_history,
    "whatif": cmd_whatif,
    "sources": cmd_sources,
    "import": cmd_import,
    "export": cmd_export,
    "check": cmd_check,
    "run": cmd_run,
    "ask": cmd_ask,
    "chat": cmd_chat,
    "eval": cmd_eval,
}


class CheckFailed(Exception):
    """`check` found errors: exit 1 after the report is printed."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inference-lens",
        description="Rank companies by the share of AI compute they spend on inference for their own business.",
    )
    parser.add_argument(
        "--db", help="database file (default: $INFERENCE_LENS_DB or the user data directory)"
    )
    parser.add_argument(
        "--lang", choices=["zh", "en"], help="output language (default: from $LANG)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, *, json_flag: bool = True) -> argparse.ArgumentParser:
        func = COMMANDS[name]
        doc = func.__doc__ or ""
        p = sub.add_parser(
            name,
            help=doc.splitlines()[0],
            description=doc,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if json_flag:
            p.add_argument("--json", action="store_true", help="machine-readable output")
        p.set_defaults(func=func, json=False)
        return p

    def metric(p: argparse.ArgumentParser) -> None:
        p.add_argument("--metric", default=DEFAULT_METRIC, choices=list(METRICS))

    def period(p: argparse.ArgumentParser) -> None:
        p.add_argument("--period", help="a year such as 2025 (default: the latest)")

    p = add("rank")
    metric(p)
    period(p)
    p.add_argument("--region", help="CN, US, ...")
    p.add_argument("--top", type=int, help="only the first N rows")
    for name in ("tiers", "company"):
        p = add(name)
        p.add_argument("company", help="id, name, alias or ticker")
        period(p)
    p = add("compare")
    p.add_argument("companies", nargs="+", metavar="company")
    metric(p)
    period(p)
    p = add("history")
    p.add_argument("company")
    metric(p)
    p = add("whatif")
    p.add_argument("company")
    p.add_argument("overrides", nargs="+", metavar="key=value")
    metric(p)
    period(p)
    p = add("sources")
    p.add_argument("company", nargs="?")
    period(p)
    p = add("import")
    p.add_argument("file")
    p = add("check")
    p.add_argument("files", nargs="*", metavar="FILE")
    p.add_argument("--today", help="the date staleness is judged against (default: today)")
    p = add("run", json_flag=False)
    p.add_argument("--webhook-url", help="public HTTPS URL for Telegram to post updates to")
    p.add_argument("--port", type=int, help="port the webhook server listens on")
    p.add_argument("--listen", default="127.0.0.1", help="webhook server address")
    p = add("ask")
    p.add_argument("question")
    # SUPPRESS keeps the global --lang when this one is not given; None means "the question's".
    p.add_argument(
        "--lang", choices=["zh", "en"], default=argparse.SUPPRESS, help="answer language"
    )
    p = add("chat", json_flag=False)
    p.add_argument(
        "--lang", choices=["zh", "en"], default=argparse.SUPPRESS, help="answer language"
    )
    p = add("eval")
    p.add_argument("--questions", type=Path, metavar="FILE", help="question set (YAML)")
    p.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    p = add("export", json_flag=False)
    p.add_argument("--format", choices=["yaml", "json"], default="yaml")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.load()
    except SettingsError as exc:
        print(t("error", args.lang or "en", message=exc), file=sys.stderr)
        return 2
    redact.mask_output(settings)
    lang: Lang = args.lang or settings.lang
    try:
        args.func(Context(args, settings))
    except BrokenPipeError:
        # The reader went away (`inference-lens rank | head`): not an error of ours.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except UnknownCompany as exc:
        message = t("unknown_company", lang, query=exc.query)
        if exc.suggestions:
            message += " " + t("did_you_mean", lang, names=", ".join(exc.suggestions))
        print(message, file=sys.stderr)
        return 1
    except CheckFailed:
        return 1
    except UnknownPeriod as exc:
        print(t("error", lang, message=exc), file=sys.stderr)
        return 1
    except DataError as exc:
        print(t("import_failed", lang), file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except BadArgument as exc:
        print(t("error", lang, message=exc), file=sys.stderr)
        return 2
    except StoreError as exc:
        print(store_message(exc, lang), file=sys.stderr)
        return 2
    return 0


# Every StoreError code, and the phrase that words it for the user.
STORE_MESSAGES = {
    "is_directory": "store_is_directory",
    "read_only": "store_read_only",
    "corrupt": "store_corrupt",
    "foreign": "store_foreign",
    "newer_schema": "store_newer_schema",
    "incompatible_schema": "store_incompatible_schema",
    "disk_full": "store_disk_full",
    "busy": "store_busy",
    "unavailable": "store_unavailable",
}


def store_message(exc: StoreError, lang: Lang) -> str:
    return t(STORE_MESSAGES[exc.code], lang, path=exc.path, detail=exc.detail, **exc.facts)


if __name__ == "__main__":
    sys.exit(main())
