"""What each bot command answers: Telegram HTML, an optional chart and inline buttons.

Synchronous and free of Telegram objects: the handlers run these in worker threads
(`asyncio.to_thread`), where the store gives each thread its own connection. Rankings and
past revisions are memoised by database, revision and arguments, charts by the figures they
show (in memory and on disk, bot.telegram.chartfiles), because the same few questions
(/rank, /tiers of a well-known company) arrive again and again. So are a company's history,
comparisons and what-ifs: at 5,000 companies the toolkit takes seconds for each (it ranks
everyone, per period and revision), and a popular company's is asked by many.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from bot.agent import per_data
from bot.alerts import subscriptions
from bot.telegram import arguments, chartfiles, charts, navigation, pages
from bot.telegram.memo import Asked, Memo
from bot.telegram.navigation import Button
from bot.text import changes, doc, terms
from bot.text import company as company_text
from bot.text import ranking as ranking_text
from bot.text import whatif as whatif_text
from bot.text.i18n import Lang, t
from bot.text.markup import CAPTION_LIMIT, esc, size, truncate
from tools import breakdown, ranking
from tools import history as hist
from tools import whatif as wi
from tools.errors import DataError, ToolkitError, UnknownCompany
from tools.models import CompanyInfo
from tools.resolve import Resolver
from tools.store import Store
from tools.taxonomy import DEFAULT_METRIC, METRICS
from tools.universe import Universe

log = logging.getLogger(__name__)
# Button actions on a company: "<action>:<company key>" (sub and unsub add ":<metric>").
TAPPABLE = ("tiers", "history", "company", "sources", "sub", "unsub")
RANKING_WORDS = ("ranking", "rank", "排名")
SOURCES_PER_PAGE = 20


@dataclass(frozen=True)
class Chart:
    key: str  # the same key always means the same picture, so an uploaded copy can be reused
    png: bytes
    caption: str


@dataclass(frozen=True)
class Reply:
    html: str
    chart: Chart | None = None
    buttons: list[list[Button]] = field(default_factory=list)
    # The answer without what its chart shows (a ranking page without archetypes): the photo's
    # caption when `html` is too long for one, so the answer stays one message.
    short: str | None = None

    def caption(self) -> str | None:
        """The text under the photo when the answer is one message, else None."""
        for text in (self.html, self.short):
            if text is not None and size(text) <= CAPTION_LIMIT:
                return text
        return None


_memo = Memo()
_asked = Asked()  # which chart views users ask for, so the warm-up draws those again


def _universe(store: Store, revision: int | None = None) -> Universe:
    if revision is None:
        return store.universe()
    return _memo.get(("universe", str(store.path), revision), lambda: store.universe(revision))


def _resolver(store: Store, u: Universe) -> Resolver:
    # The free-text agent's resolver of these names (one build per data revision for both);
    # the memo lets a crowd's first requests wait for one build rather than race.
    return _memo.get(("resolver", str(store.path), u.revision), lambda: per_data.resolver(u))


def _ranked(
    store: Store, u: Universe, metric: str, period: str | None, region: str | None = None
) -> ranking.Ranked:
    # Every row's figures, kept for the ranking's pages; each page makes its own rows.
    key = ("rank", str(store.path), u.revision, metric, period, region)
    return _memo.get(key, lambda: ranking.ranked(u, metric, period, region))


def company_id(store: Store, key: str) -> str | None:
    """The company a button's short key names in the current data (an id as such too:
    buttons sent before keys)."""
    u = _universe(store)
    if key in u.info:
        return key
    keys = _memo.get(
        ("keys", str(store.path), u.revision), lambda: {navigation.key(c): c for c in u.info}
    )
    return keys.get(key)


def _split_args(
    args: list[str], store: Store | None = None
) -> tuple[str | None, str | None, list[str]]:
    """(metric, period, the rest); with a store, its companies' names are not periods."""
    return arguments.split(args, _resolver(store, _universe(store)) if store else None)


def _unknown_metric(text: str, lang: Lang) -> Reply:
    names = ", ".join(METRICS)
    return Reply(esc(t("unknown_metric", lang, metric=text, names=names)))


def rank(store: Store, lang: Lang, args: list[str]) -> Reply:
    """The first page of the ranking by a metric (default: self-use inference share), in a
    period and region when named (/rank 2025 CN), with its chart."""
    metric, period, rest = _split_args(args)
    regions = _regions(_universe(store))
    region = next((a.upper() for a in rest if a.upper() in regions), None)
    rest = [a for a in rest if a.upper() not in regions]
    if rest:
        return _unknown_metric(" ".join(rest), lang)
    return rank_page(store, lang, metric or DEFAULT_METRIC, period, region, 1)


def _regions(u: Universe) -> list[str]:
    return sorted({c.region for c in u.info.values()})


def rank_page(
    store: Store, lang: Lang, metric: str, period: str | None, region: str | None, page: int
) -> Reply:
    """Page `page` of a ranking: its rows in text and chart, a pager and the toggles."""
    u = _universe(store)
    r = _ranked(store, u, metric, period, region)
    total = navigation.pages(len(r.listed))
    page = min(max(page, 1), total)
    start = (page - 1) * navigation.PAGE_SIZE
    shown = r.ranking(r.listed[start : start + navigation.PAGE_SIZE])
    pager = "\n\n" + esc(t("page_of", lang, k=page, total=total)) if total > 1 else ""
    html = doc.html(ranking_text.ranking(shown, lang)) + pager
    short = (  # only drawn when the whole page is too long for the photo's caption
        doc.html(ranking_text.ranking(shown, lang, short=True)) + pager
        if size(html) > CAPTION_LIMIT
        else None
    )
    _asked.add((str(store.path), "rank", metric, period, region, page))
    draw = functools.partial(charts.ranking_chart, shown, lang)
    chart = _chart(store, "rank", shown, lang, lambda: draw(_footer(store, u, lang)), html)
    choices = (u.periods(), _regions(u))
    buttons = navigation.rank_buttons(r.head.metric, period, region, page, total, choices, lang)
    return Reply(html, chart, buttons, short)


def _footer(store: Store, u: Universe, lang: Lang) -> str:
    """Sources, the date of the data's revision and the bot's handle, for a chart's foot."""
    dates = _memo.get(
        ("dates", str(store.path), u.revision),
        lambda: {r.id: r.created_at[:10] for r in store.revisions()},
    )
    date = dates.get(u.revision, "") if u.revision is not None else ""
    return t("chart_footer", lang, date=date, revision=u.revision, bot=charts.handle()).rstrip(" ·")


def _chart(
    store: Store, kind: str, shown: BaseModel, lang: Lang, draw: Callable[[], bytes], html: str
) -> Chart | None:
    """The chart of what `shown` holds, drawn once, captioned with the answer's title line;
    None when no CJK font is installed (the answer then goes without its picture).

    Keyed by the figures it shows, not by the data's revision: after an import only the
    charts whose figures changed are drawn again, and Telegram's copy of the others is sent
    again. An unchanged chart keeps the footer of the revision it was drawn from, which is
    still true of what it shows."""
    digest = hashlib.blake2b(shown.model_dump_json().encode(), digest_size=12).hexdigest()
    key = f"{kind}:{lang}:{charts.handle()}:{digest}"
    try:
        files = chartfiles.beside(store.path)
        png = _memo.get(
            ("png", str(store.path), key),
            lambda: files.get(key, draw),
            yielding=charts.in_background(),
        )
    except charts.MissingCJKFont as exc:
        log.warning("answer sent without its chart: %s", exc)
        return None
    return Chart(key, png, truncate(html.split("\n", 1)[0]))


def _company_buttons(cid: str, lang: Lang, current: str) -> list[list[Button]]:
    return navigation.company_buttons(cid, lang, current, DEFAULT_METRIC)


def picker(store: Store, lang: Lang, action: str, page: int) -> list[list[Button]]:
    """A page of the companies, top of the default ranking first, as buttons that run
    `action` for one of them (ten a page: at 5,000 companies a name typed is the search)."""
    u = _universe(store)
    return navigation.picker(_by_rank(store, u), action, page, lang)


def top_companies(store: Store, n: int) -> list[str]:
    """The ids of the first `n` companies of the default ranking."""
    return [c.id for c in _by_rank(store, _universe(store))[:n]]


def most_asked(store: Store, n: int) -> list[tuple[object, ...]]:
    """The `n` chart views of this database asked for most since the bot started (see
    warmup.plan)."""
    mine = [spec for spec in _asked.most(_asked.size) if spec[0] == str(store.path)]
    return [spec[1:] for spec in mine[:n]]


def _by_rank(store: Store, u: Universe) -> list[CompanyInfo]:
    def order() -> list[CompanyInfo]:
        ranked = _ranked(store, u, DEFAULT_METRIC, None).companies
        return [u.info[c] for c in dict.fromkeys([*ranked, *u.info])]

    return _memo.get(("by rank", str(store.path), u.revision), order)


def _resolve(store: Store, u: Universe, query: str) -> str:
    return _resolver(store, u).resolve(query)


def resolve(store: Store, query: str) -> str:
    """The id of the company a name, ticker or id names in the current data."""
    return _resolve(store, _universe(store), query)


def unknown_company(store: Store, lang: Lang, exc: UnknownCompany, action: str) -> Reply:
    """'No company called x', with the suggestions as buttons that retry the command."""
    u = _universe(store)
    text = t("unknown_company", lang, query=exc.query)
    names = [terms.name(u.info[c], lang) for c in exc.suggestions]
    if names:
        text += " " + t("did_you_mean", lang, names=", ".join(names))
    if action not in TAPPABLE:
        return Reply(esc(text))
    buttons = [
        Button(n, navigation.data(action, navigation.key(c)))
        for n, c in zip(names, exc.suggestions, strict=True)
    ]
    return Reply(esc(text), buttons=[buttons] if buttons else [])


def _usage(command: str, lang: Lang, store: Store) -> Reply:
    """Which company? The top ones as buttons (paged), or type a name."""
    n = len(_universe(store).info)
    text = f"<b>{esc(t('companies_title', lang, n=n))}</b>\n" + esc(
        t("pick_or_type", lang, command=command)
    )
    return Reply(text, buttons=picker(store, lang, command, 1))


def tiers(store: Store, lang: Lang, args: list[str]) -> Reply:
    """A company's four-layer breakdown, archetype and fired rule, with its chart."""
    _, period, rest = _split_args(args, store)
    if not rest:
        return _usage("tiers", lang, store)
    u = _universe(store)
    b = breakdown.tiers(u, _resolve(store, u, " ".join(rest)), period)
    html = doc.html(company_text.tiers(b, lang))
    _asked.add((str(store.path), "tiers", b.company, period))
    draw = functools.partial(charts.tiers_chart, b, lang)
    chart = _chart(store, "tiers", b, lang, lambda: draw(_footer(store, u, lang)), html)
    # No short form: its buttons open text views (history, profile, sources), which edit the
    # card's own text message in place; a photo's caption cannot become a text message.
    return Reply(html, chart, _company_buttons(b.company, lang, "tiers"))


def company(store: Store, lang: Lang, args: list[str]) -> Reply:
    """A company's inputs with ranges, notes and sources; with no name, the list of companies."""
    _, period, rest = _split_args(args, store)
    if not rest:
        return _usage("company", lang, store)
    u = _universe(store)
    p = breakdown.profile(u, _resolve(store, u, " ".join(rest)), period)
    return Reply(
        doc.html(company_text.profile(p, lang)),
        buttons=_company_buttons(p.company, lang, "company"),
    )


def compare(store: Store, lang: Lang, args: list[str]) -> Reply:
    """Companies side by side on a metric, with P(A ranks above B) for each pair."""
    metric, period, rest = _split_args(args, store)
    u = _universe(store)
    ids = list(dict.fromkeys(_resolve(store, u, q) for q in arguments.companies(rest)))
    if len(ids) < 2:
        return Reply(esc(t("usage", lang, usage=t("usage_compare", lang))))
    metric = metric or DEFAULT_METRIC
    key = ("compare", str(store.path), u.revision, tuple(ids), metric, period)
    result = _memo.get(key, lambda: ranking.compare(u, ids, metric, period))
    return Reply(doc.html(ranking_text.comparison(result, lang)))


def history(store: Store, lang: Lang, args: list[str]) -> Reply:
    """A company's rank per period and its moves across periods and data revisions."""
    metric, _, rest = _split_args(args, store)
    if not rest:
        return _usage("history", lang, store)
    u = _universe(store)
    cid = _resolve(store, u, " ".join(rest))
    metric = metric or DEFAULT_METRIC
    key = ("history", str(store.path), u.revision, cid, metric)
    h = _memo.get(key, lambda: _history(store, u, cid, metric))
    return Reply(doc.html(changes.history(h, lang)), buttons=_company_buttons(cid, lang, "history"))


def _history(store: Store, u: Universe, cid: str, metric: str) -> hist.History:
    revisions = [_universe(store, r.id) for r in store.revisions()]
    return hist.history(u, revisions, cid, metric)


def whatif(store: Store, lang: Lang, args: list[str]) -> Reply:
    """A company's metrics, archetype and rank with some inputs overridden (nothing is saved)."""
    pairs = [a for a in args if "=" in a]
    names = [a for a in args if "=" not in a]
    if not pairs or not names:
        return Reply(esc(t("usage", lang, usage=t("usage_whatif", lang))))
    u = _universe(store)
    cid = _resolve(store, u, " ".join(names))
    overrides = wi.parse_overrides(pairs)
    key = ("whatif", str(store.path), u.revision, cid, tuple(sorted(overrides.items())))
    result = _memo.get(key, lambda: wi.whatif(u, cid, overrides))
    return Reply(doc.html(whatif_text.whatif(result, lang)))


def sources(store: Store, lang: Lang, args: list[str]) -> Reply:
    """Every source behind the data, or the ones a company's figures cite."""
    _, period, rest = _split_args(args, store)
    u = _universe(store)
    if not rest:
        return source_page(store, lang, 1)
    p = breakdown.profile(u, _resolve(store, u, " ".join(rest)), period)
    title = t("sources_company_title", lang, name=terms.name(p, lang), period=p.period)
    return Reply(
        doc.html(company_text.source_list(p.sources, lang, title)),
        buttons=_company_buttons(p.company, lang, "sources"),
    )


def source_page(store: Store, lang: Lang, page: int) -> Reply:
    """One page of every source behind the data, with a pager."""
    items = sorted(_universe(store).sources.values(), key=lambda s: s.id)
    total = -(-len(items) // SOURCES_PER_PAGE) or 1
    page = min(max(page, 1), total)
    shown = items[(page - 1) * SOURCES_PER_PAGE : page * SOURCES_PER_PAGE]
    title = t("sources_all_title", lang, n=len(items))
    html = doc.html(company_text.source_list(shown, lang, title))
    if total > 1:
        html += "\n\n" + esc(t("page_of", lang, k=page, total=total))
    nav = navigation.pager("srcs", [], page, total, lang)
    return Reply(html, buttons=[nav] if nav else [])


def methodology(store: Store, lang: Lang, args: list[str]) -> Reply:
    """How the numbers are made: layers, metrics, archetype rules, uncertainty."""
    return Reply(pages.methodology(_universe(store).thresholds, lang))


def subscribe(store: Store, lang: Lang, chat_id: int, args: list[str]) -> Reply:
    """Follow the whole ranking (no company named) or one company, on a metric."""
    metric, _, rest = _split_args(args, store)
    metric = metric or DEFAULT_METRIC
    u = _universe(store)
    cid = _resolve(store, u, " ".join(rest)) if rest else None
    added = subscriptions.subscribe(store, chat_id, cid, metric, lang)
    if not added:
        return Reply(esc(t("already_subscribed", lang)))
    if cid is None:
        return Reply(esc(t("subscribed_ranking", lang, metric=METRICS[metric].name(lang))))
    c = u.info[cid]
    return Reply(esc(t("subscribed_company", lang, name=c.name.zh if lang == "zh" else c.name.en)))


def unsubscribe(store: Store, lang: Lang, chat_id: int, args: list[str]) -> Reply:
    """Stop following one company, the whole ranking ("ranking"), or everything (no argument)."""
    if not args:
        removed = subscriptions.unsubscribe(store, chat_id, everything=True)
    elif args[0].lower() in RANKING_WORDS:
        removed = subscriptions.unsubscribe(store, chat_id, None)
    else:
        u = _universe(store)
        removed = subscriptions.unsubscribe(store, chat_id, _resolve(store, u, " ".join(args)))
    return Reply(esc(t("unsubscribed", lang, n=removed)))


def subscription_list(store: Store, lang: Lang, chat_id: int, args: list[str]) -> Reply:
    """What this chat follows."""
    info = _universe(store).info
    items = subscriptions.of_chat(store, chat_id)
    # the names of what the chat follows, not of every company (5,000 at the README's size)
    names = {s.company: terms.name(info[s.company], lang) for s in items if s.company in info}
    return Reply(
        pages.subscriptions(items, names, lang), buttons=navigation.removers(items, names, lang)
    )


def import_file(store: Store, lang: Lang, path: Path, author: str) -> Reply:
    """Validate and import a data file atomically, then say what changed in the ranking."""
    try:
        result = store.import_file(path, author=author)
    except DataError as exc:
        # Problems name the file as the admin sent it, not the temporary folder it landed in.
        problems = [str(p).replace(f"{path.parent}/", "") for p in exc.problems]
        return Reply(pages.import_refused(problems, lang))
    moves: list[hist.Move] = []
    if result.revision is not None:
        # The revision before this one is the data this import changed, even if another
        # import landed meanwhile.
        before = _universe(store, result.revision - 1)
        after = _universe(store, result.revision)
        moves = hist.diff(before, after, DEFAULT_METRIC).moves
    return Reply(doc.html(changes.import_report(result, moves, DEFAULT_METRIC, lang)))


ChatView = Callable[[Store, Lang, int, list[str]], Reply]

COMMAND_VIEWS: dict[str, Callable[[Store, Lang, list[str]], Reply]] = {
    "rank": rank,
    "tiers": tiers,
    "company": company,
    "compare": compare,
    "history": history,
    "whatif": whatif,
    "sources": sources,
    "methodology": methodology,
}


def problem(exc: ToolkitError, lang: Lang) -> Reply:
    """A mistake in what the user asked (bad argument, period without data), said plainly."""
    return Reply(esc(t("error", lang, message=exc)))
